package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.ContrastiveSet;
import dev.vane.lab.steer.HeadDirectionBuilder;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;
import dev.vane.lab.sweep.HeadSweep;
import dev.vane.lab.sweep.SweepMetric;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Step 7, head-specific intervention (HSI) beside CAA: every head's mass-mean direction from A/B part 1/2, a
 * one-head-at-a-time sweep of the coordination log-odds on part 3/4 (the heads are chosen there), and the top
 * {@link #TOP} heads steered together on part 4/4, never used to choose: sampled chain-of-thought answers
 * ("Answer: (A)") and p(matching), unsteered against steered.
 */
final class HsiStep implements DemoStep {
    static final int TOP = 4;
    static final List<Float> SCALES = List.of(10f, 30f);
    static final int SAMPLES = 4;
    static final double TEMPERATURE = 0.2;

    @Override
    public String name() {
        return "hsi";
    }

    @Override
    public String description() {
        return "head-specific steering: a head sweep, then sampled answers flipped by the top heads";
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "hsi").put("model", ctx.modelPath());
        c.set("data", DemoInputs.describe(ctx.inputs().abFile()));
        c.put("build_part", "1/2").put("sweep_part", "3/4").put("eval_part", "4/4").put("top", TOP)
                .put("samples", SAMPLES).put("temperature", TEMPERATURE).put("max_tokens", ctx.sizes().maxNewTokens());
        c.set("scales", Figures.array(SCALES));
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        List<AbQuestion> all = ctx.inputs().abQuestions();
        List<AbQuestion> build = AbQuestion.part(all, 1, 2), sweepOn = AbQuestion.part(all, 3, 4), eval = AbQuestion.part(all, 4, 4);
        ModelConfig c = ctx.model().config();
        float[] scales = new float[SCALES.size()];
        for (int i = 0; i < scales.length; i++) scales[i] = SCALES.get(i);
        long heads = (long) c.layers() * c.heads();
        progress.total(build.size() + heads * scales.length + 2L * eval.size() * (SAMPLES + 1));
        SteeringVector every = ScaleSweep.vector(run, "every-head.safetensors", () -> {
            Map<Integer, int[]> allHeads = new TreeMap<>();
            for (int l = 0; l < c.layers(); l++) allHeads.put(l, IntStream.range(0, c.heads()).toArray());
            return new HeadDirectionBuilder(ctx.model()).heads(allHeads)
                    .build(ContrastiveSet.abAnswers(ctx.tokenizer(), build, ContrastiveSet.Read.LAST), "hsi",
                            ctx.inputs().abFile().getFileName() + " part 1/2", progress.from(0))
                    .vector();
        });
        AbEvaluation evaluation = new AbEvaluation(ctx.model(), ctx.tokenizer());
        HeadSweep sweep = new HeadSweep(c, every, scales);
        RunDirectory sweepRun = RunDirectory.openOrCreate(run.path(), "sweep", run.path("sweep"),
                RunDirectory.object().put("job", "sweep-heads").put("model", ctx.modelPath()).put("metric", "ab-logodds"));
        HeadSweep.Report report = sweep.run(SweepMetric.abLogOdds(evaluation, sweepOn), sweepRun, ctx.placement(),
                progress.counting(build.size()));
        // the scale and direction whose best head moves the tuning questions most (up, towards coordination)
        float best = scales[0];
        double bestChange = Double.NEGATIVE_INFINITY;
        for (float s : scales) {
            double change = report.ranked(s, true).getFirst().change();
            if (change > bestChange) {
                bestChange = change;
                best = s;
            }
        }
        SteeringVector top = sweep.topHeads(report, TOP, best, true);
        top.write(run.path("hsi-top" + TOP + ".safetensors"));
        long before = build.size() + heads * scales.length;
        SamplingParams params = SamplingParams.greedy(ctx.sizes().maxNewTokens()).withTemperature(TEMPERATURE).withTopP(0.95).withSeed(0);
        ObjectNode s = RunDirectory.object().put("n", eval.size()).put("scale", best).put("heads", top.headsSpec())
                .put("baseline_log_odds", report.baseline()).put("top_head_change", bestChange);
        int k = 0;
        for (Steering steering : List.of(Steering.none(), Steering.of(top, best))) {
            String key = k == 0 ? "unsteered" : "steered";
            long offset = before + (long) k * eval.size() * (SAMPLES + 1);
            AbEvaluation.Result p = evaluation.evaluate(eval, steering, progress.from(offset));
            AbEvaluation.SampledResult sampled = evaluation.sample(eval, SAMPLES, params, steering,
                    progress.from(offset + eval.size()));
            s.put(key + "_mean_p_matching", p.meanPMatching()).put(key + "_matching_fraction", sampled.matchingFraction())
                    .put(key + "_undefined_fraction", sampled.undefinedFraction());
            ArrayNode texts = s.putArray(key + "_answers");
            sampled.answers().stream().limit(8).forEach(a -> texts.add(a.text()));
            k++;
        }
        run.writeSummary(s);
    }

    @Override
    public ObjectNode headline(JsonNode summary) {
        ObjectNode h = RunDirectory.object();
        for (String key : List.of("n", "scale", "heads", "unsteered_mean_p_matching", "steered_mean_p_matching",
                "unsteered_matching_fraction", "steered_matching_fraction", "unsteered_undefined_fraction",
                "steered_undefined_fraction")) {
            h.set(key, summary.get(key).deepCopy());
        }
        return h;
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        String sentence = "Steering the " + TOP + " attention heads that most raise the coordinating answer on tuning questions "
                + "(heads " + headline.get("heads").asText() + ", scale " + Figures.scale(headline.get("scale").asDouble())
                + ", each head's mass-mean direction) on " + headline.get("n").asInt() + " held-out questions: p(coordinating "
                + "answer) " + Figures.sig(headline.get("unsteered_mean_p_matching").asDouble()) + " -> "
                + Figures.sig(headline.get("steered_mean_p_matching").asDouble()) + "; sampled chain-of-thought answers that "
                + "end in the coordinating choice " + Figures.percent(headline.get("unsteered_matching_fraction").asDouble())
                + " -> " + Figures.percent(headline.get("steered_matching_fraction").asDouble()) + " (answers with no "
                + "parsable choice: " + Figures.percent(headline.get("unsteered_undefined_fraction").asDouble()) + " -> "
                + Figures.percent(headline.get("steered_undefined_fraction").asDouble()) + ", counted as not coordinating).";
        HtmlReport.Table table = HtmlReport.Table.of("", "p(matching)", "sampled answers matching", "no parsable answer");
        for (String key : List.of("unsteered", "steered")) {
            table.row(key, Figures.sig(headline.get(key + "_mean_p_matching").asDouble()),
                    Figures.f2(headline.get(key + "_matching_fraction").asDouble()),
                    Figures.f2(headline.get(key + "_undefined_fraction").asDouble()));
        }
        report.section("7. Head-specific intervention (HSI) beside CAA", sentence, null, table);
    }
}
