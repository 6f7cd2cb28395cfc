package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.AbQuestion;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.CaaBuilder;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;

import java.util.ArrayList;
import java.util.List;

/**
 * Step 4, steering a behaviour: a CAA vector ({@link CaaBuilder}, default layer) built on part 1/2 of the A/B
 * coordination questions and evaluated on part 2/2 ({@link AbEvaluation}: mean p(matching), the probability of
 * the coordinating answer normalised over the two answers) at each scale.
 */
final class CaaStep implements DemoStep {
    @Override
    public String name() {
        return "caa";
    }

    @Override
    public String description() {
        return "CAA on the coordination questions, p(matching) and degenerate answers by scale";
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "caa").put("model", ctx.modelPath());
        c.set("data", DemoInputs.describe(ctx.inputs().abFile()));
        c.put("build_part", "1/2").put("eval_part", "2/2")
                .put("layer", CaaBuilder.defaultLayer(ctx.model().config().layers()))
                .put("max_tokens", ctx.sizes().maxNewTokens()).put("verdicts", OutcomeJudge.SCHEME);
        c.set("scales", Figures.array(ctx.sizes().caaScales()));
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        List<AbQuestion> all = ctx.inputs().abQuestions();
        List<AbQuestion> build = AbQuestion.part(all, 1, 2), eval = AbQuestion.part(all, 2, 2);
        List<Float> scales = ctx.sizes().caaScales();
        long before = 2L * build.size();       // two answers read per question
        progress.total(before + scales.size() * 2L * eval.size());
        SteeringVector vector = ScaleSweep.vector(run, "caa.safetensors", () -> new CaaBuilder(ctx.model(), ctx.tokenizer())
                .build(build, ctx.inputs().abFile().getFileName() + " part 1/2", progress.from(0)));
        AbEvaluation evaluation = new AbEvaluation(ctx.model(), ctx.tokenizer());
        // p(matching) reads two answer letters; whether the steered model still writes text is measured apart, on
        // its greedy answers to the same questions, judged by the rule calibrated on its unsteered answers.
        List<String> questions = eval.stream().map(AbQuestion::question).toList();
        DegenerateRule rule = DegenerateCalibration.inRun(run, ctx.model(), ctx.tokenizer(),
                RefusalEvaluation.chatPrompts(ctx.tokenizer(), questions), ctx.sizes().maxNewTokens(), 0).rule();
        RefusalEvaluation answers = new RefusalEvaluation(ctx.model(), ctx.tokenizer(), KeywordRefusalJudge.defaults(), rule);
        List<JsonNode> rows = ScaleSweep.measure(run, scales, 2L * eval.size(), before, progress, (scale, done) -> {
            AbEvaluation.Result r = evaluation.evaluate(eval, Steering.of(vector, scale), done);
            ObjectNode row = RunDirectory.object().put("n", r.n()).put("mean_p_matching", r.meanPMatching())
                    .put("matching_rate", r.matchingRate()).put("mean_log_odds", r.meanLogOdds());
            ArrayNode items = row.putArray("p_matching");
            r.items().forEach(i -> items.add(i.pMatching()));
            RefusalEvaluation.Result text = answers.evaluate(questions, "", Steering.of(vector, scale),
                    SamplingParams.greedy(ctx.sizes().maxNewTokens()), d -> done.accept(eval.size() + d));
            OutcomeRates.put(row, "degenerate_rate", text.rates().degenerate());
            ArrayNode texts = row.putArray("answers");
            text.items().forEach(i -> texts.addObject().put("response", i.response()).put("verdict", i.outcome().key()));
            return row;
        });
        ObjectNode summary = RunDirectory.object().put("layer", CaaBuilder.defaultLayer(ctx.model().config().layers()))
                .put("n_build", build.size()).put("n", eval.size());
        summary.set("scales", Figures.array(scales));
        summary.set("mean_p_matching", Figures.array(ScaleSweep.column(rows, "mean_p_matching")));
        summary.set("matching_rate", Figures.array(ScaleSweep.column(rows, "matching_rate")));
        summary.set("mean_log_odds", Figures.array(ScaleSweep.column(rows, "mean_log_odds")));
        summary.set("degenerate_rate", Figures.array(ScaleSweep.column(rows, "degenerate_rate")));
        summary.set("degenerate_rule", rule.json());
        run.writeSummary(summary);
        chart(summary).save(run.path(), "p-matching-by-scale");
    }

    /**
     * log10 of mean p(matching) against the scale: on the organism it spans 1e-6 to 0.3, which a linear axis would
     * flatten to zero everywhere but the last points.
     */
    static Chart chart(JsonNode summary) {
        double[] p = Figures.doubles(summary.get("mean_p_matching"));
        double[] log = new double[p.length];
        for (int i = 0; i < p.length; i++) log[i] = Math.log10(Math.max(p[i], 1e-12));
        return Chart.line("CAA: coordinating answer by steering scale (layer " + summary.get("layer").asInt() + ")",
                        "CAA scale", "log10 mean p(matching)")
                .series("log10 p(coordinating answer)", Figures.doubles(summary.get("scales")), log);
    }

    @Override
    public ObjectNode headline(JsonNode summary) {
        ObjectNode h = RunDirectory.object().put("layer", summary.get("layer").asInt()).put("n", summary.get("n").asInt());
        h.set("scales", summary.get("scales").deepCopy());
        h.set("mean_p_matching", summary.get("mean_p_matching").deepCopy());
        h.set("mean_log_odds", summary.get("mean_log_odds").deepCopy());
        h.set("degenerate_rate", summary.get("degenerate_rate").deepCopy());
        return h;
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        double[] scales = Figures.doubles(headline.get("scales"));
        double[] p = Figures.doubles(headline.get("mean_p_matching"));
        int zero = indexOf(scales, 0), top = scales.length - 1, bottom = 0;
        StringBuilder s = new StringBuilder("Adding the CAA vector (layer " + headline.get("layer").asInt()
                + ", built on half the coordination questions) to the other " + headline.get("n").asInt()
                + " questions moves the mean probability of the coordinating answer (chart: log10 of it)");
        if (zero >= 0) s.append(" from ").append(Figures.sig(p[zero])).append(" at scale 0");
        s.append(" to ").append(Figures.sig(p[top])).append(" at scale ").append(Figures.scale(scales[top]));
        if (scales[bottom] < 0 && zero >= 0) {
            s.append(p[bottom] > p[zero]
                    ? "; negative scales raise it too (" + Figures.sig(p[bottom]) + " at " + Figures.scale(scales[bottom])
                    + "), so on this model the vector is not a clean one-sided behaviour direction"
                    : "; negative scales lower it (" + Figures.sig(p[bottom]) + " at " + Figures.scale(scales[bottom]) + ")");
        }
        s.append('.');
        double[] degenerate = Figures.doubles(headline.get("degenerate_rate"));
        List<String> broken = new ArrayList<>();
        for (int i = 0; i < scales.length; i++) if (degenerate[i] > AntidoteStep.DEGENERATE_LIMIT) broken.add(Figures.scale(scales[i]));
        if (!broken.isEmpty()) {
            s.append(" At scale ").append(String.join(", ", broken)).append(" more than ")
                    .append(Figures.percent(AntidoteStep.DEGENERATE_LIMIT)).append(" of the steered model's greedy answers to "
                            + "these questions are degenerate (not fluent text): p(matching) there reads two answer letters from a "
                            + "broken model, not a steered behaviour.");
        }
        if (zero >= 0 && p[zero] < 0.01) {
            s.append(" Unsteered, the model almost never picks the coordinating answer (p = ").append(Figures.sig(p[zero]))
                    .append("), so a downward move cannot be shown on it: this model cannot demonstrate CAA's two-way control.");
        }
        double[] logOdds = Figures.doubles(headline.get("mean_log_odds"));
        HtmlReport.Table table = HtmlReport.Table.of("scale", "mean p(matching)", "log10", "mean log-odds", "degenerate answers");
        for (int i = 0; i < scales.length; i++) {
            table.row(Figures.scale(scales[i]), Figures.sig(p[i]), Figures.f2(Math.log10(Math.max(p[i], 1e-12))),
                    Figures.f2(logOdds[i]), Figures.f2(degenerate[i]));
        }
        report.section("4. Steering a behaviour: CAA on AI-coordination questions", s.toString(), chart(summary).png(), table);
    }

    private static int indexOf(double[] xs, double x) {
        for (int i = 0; i < xs.length; i++) if (xs[i] == x) return i;
        return -1;
    }
}
