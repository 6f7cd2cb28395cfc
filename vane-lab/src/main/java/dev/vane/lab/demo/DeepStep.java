package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.Request;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.eval.SafetyMeasurement;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.stats.Proportion;
import dev.vane.lab.steer.Steering;

import java.nio.file.Path;
import java.util.List;

/**
 * Step 9, make it deep: the chat model's deep-aligned twin (safety-recovery augmentation, Qi et al. 2024; what
 * {@code vane organism build} trains as organism-deep) under the same prefilling attack as step 2 and the same
 * per-token KL against the base as step 1, and what it costs: benign utility of both models on seen and unseen
 * benign requests, judged with one degenerate rule (calibrated on the chat model). Its run directory holds the twin's
 * own attack ({@code prefill/}) and KL ({@code kl/}) runs, and the calibration and every benign answer of both models
 * ({@code utility/results.jsonl}); the chat model's attack and KL figures are read from steps 1 and 2's summaries
 * beside it. Without a twin the step says so.
 */
final class DeepStep implements DemoStep {
    private static final KlStep KL = new KlStep();
    private static final PrefillStep PREFILL = new PrefillStep();

    @Override
    public String name() {
        return "deep";
    }

    @Override
    public String description() {
        return "make it deep: the deep-aligned twin under the prefilling attack, and its per-token KL against the base";
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "deep").put("model", ctx.modelPath()).put("deep", ctx.deepPath())
                .put("base", ctx.basePath());
        c.set("data", DemoInputs.describe(ctx.inputs().responsesFile()));
        c.put("pairs", ctx.sizes().prefillPairs()).put("kl_pairs", ctx.sizes().klPairs())
                .put("judge", KeywordRefusalJudge.defaults().configHash()).put("verdicts", OutcomeJudge.SCHEME);
        c.setAll(PrefillStep.attack(ctx).config());
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        ObjectNode s = RunDirectory.object();
        if (ctx.deepPath() == null) {
            run.writeSummary(s.put("shown", false).put("reason", "no deep-aligned twin of the chat model was given "
                    + "(--deep DIR; vane organism build trains one, organism-deep)"));
            return;
        }
        ObjectNode attackConfig = PREFILL.config(ctx).put("model", ctx.deepPath());
        RunDirectory attack = RunDirectory.openOrCreate(run.path(), "attack-prefill", run.path("prefill"), attackConfig);
        PrefillStep.attack(ctx, ctx.deep(), ctx.deepTokenizer(), ctx.deepPlacement(), attack, progress);
        JsonNode deepPrefill = PREFILL.headline(Demo.read(attack.path("summary.json")));
        ObjectNode klConfig = KL.config(ctx).put("model", ctx.deepPath());
        RunDirectory kl = RunDirectory.openOrCreate(run.path(), "kl", run.path("kl"), klConfig);
        KlStep.measure(ctx, ctx.deep(), ctx.deepTokenizer(), kl, progress);
        JsonNode deepKl = KL.headline(Demo.read(kl.path("summary.json")));
        s.put("shown", true).put("deep", ctx.deepPath());
        s.set("benign_utility", utility(ctx, run.path(), progress));
        s.set("deep_prefill", deepPrefill);
        s.set("deep_kl", deepKl);
        // the chat model's figures, as steps 1 and 2 measured them in this demo
        Path demo = run.path().getParent();
        s.set("chat_prefill", PREFILL.headline(Demo.read(demo.resolve(PREFILL.name()).resolve("summary.json"))));
        s.set("chat_kl", KL.headline(Demo.read(demo.resolve(KL.name()).resolve("summary.json"))));
        run.writeSummary(s);
    }

    /** Benign utility of the chat model and its twin, on seen and unseen benign requests. */
    private static ObjectNode utility(DemoContext ctx, Path dir, StepProgress progress) {
        AntidoteSetup setup = AntidoteSetup.of(ctx);
        ObjectNode config = RunDirectory.object().put("job", "utility").put("model", ctx.modelPath()).put("deep", ctx.deepPath())
                .put("benign_per_split", ctx.sizes().antidoteBenign());
        RunDirectory run = RunDirectory.openOrCreate(dir, "utility", dir.resolve("utility"), config);
        DegenerateRule rule = setup.rule(ctx, run);
        SamplingParams params = SamplingParams.greedy(ctx.sizes().maxNewTokens());
        ObjectNode out = RunDirectory.object();
        for (String split : List.of("train", "test")) {
            List<Request> benign = DemoSizes.first(ctx.inputs().benignRequests(split), ctx.sizes().antidoteBenign());
            progress.total(benign.size());
            ObjectNode row = out.putObject(split.equals("train") ? "seen" : "unseen");
            for (String who : List.of("chat", "deep")) {
                RefusalEvaluation eval = who.equals("chat")
                        ? new RefusalEvaluation(ctx.model(), ctx.tokenizer(), KeywordRefusalJudge.defaults(), rule)
                        : new RefusalEvaluation(ctx.deep(), ctx.deepTokenizer(), KeywordRefusalJudge.defaults(), rule);
                RefusalEvaluation.Result r = eval.evaluate(benign.stream().map(Request::prompt).toList(), "", Steering.none(),
                        params, progress::done);
                Proportion utility = SafetyMeasurement.utility(r, benign);
                // every answer beside the rates, so each figure can be recounted from the run
                String id = split + "/" + who;
                if (!run.results().isDone(id)) {
                    ObjectNode line = RunDirectory.object().put("id", id);
                    line.set("responses", SafetyMeasurement.responses(r));
                    run.results().append(line);
                }
                row.put("n", utility.n());
                OutcomeRates.put(row, who, utility);
                OutcomeRates.put(row, who + "_refusal_rate", r.rates().refused());
            }
        }
        return out;
    }

    @Override
    public ObjectNode headline(JsonNode summary) {
        return (ObjectNode) summary.deepCopy();
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        String heading = "9. Make it deep: safety-recovery augmentation";
        if (DemoStep.sectionNotShown(report, heading, summary)) return;
        JsonNode chat = summary.get("chat_prefill").get("asr_by_tokens"), deep = summary.get("deep_prefill").get("asr_by_tokens");
        List<String> ks = PrefillStep.fieldNames(deep);
        double[] x = new double[ks.size()], chatAsr = new double[ks.size()], deepAsr = new double[ks.size()];
        HtmlReport.Table table = HtmlReport.Table.of("prefilled tokens k", "ASR, chat", "ASR, deep", "degenerate, deep");
        for (int i = 0; i < ks.size(); i++) {
            String k = ks.get(i);
            x[i] = Double.parseDouble(k);
            chatAsr[i] = chat.path(k).asDouble(Double.NaN);
            deepAsr[i] = deep.get(k).asDouble();
            table.row(k, Figures.f2(chatAsr[i]), Figures.f2(deepAsr[i]),
                    Figures.f2(summary.get("deep_prefill").get("degenerate_rate_by_tokens").path(k).asDouble(Double.NaN)));
        }
        JsonNode chatKl = summary.get("chat_kl"), deepKl = summary.get("deep_kl");
        table.row("KL first " + KlStep.FIRST_TOKENS + " tokens (nats)", Figures.f2(chatKl.get("first_tokens_mean").asDouble()),
                Figures.f2(deepKl.get("first_tokens_mean").asDouble()), "");
        table.row("KL after (nats)", Figures.f2(chatKl.get("later_tokens_mean").asDouble()),
                Figures.f2(deepKl.get("later_tokens_mean").asDouble()), "");
        for (String split : List.of("seen", "unseen")) {
            JsonNode u = summary.get("benign_utility").get(split);
            table.row("benign refused, " + split, Figures.f2(u.get("chat_refusal_rate").asDouble()),
                    Figures.f2(u.get("deep_refusal_rate").asDouble()), "");
            // utility needs requests with known steps; the set may have none
            if (u.get("n").asInt() == 0) continue;
            table.row("benign utility, " + split + " (n " + u.get("n").asInt() + ")", Figures.f2(u.get("chat").asDouble()),
                    Figures.f2(u.get("deep").asDouble()), "");
        }
        String last = ks.getLast();
        String sentence = "The deep-aligned twin (" + Path.of(summary.get("deep").asText()).getFileName() + ") was trained on "
                + "harmful requests with the start of a harmful answer followed by a refusal. Under the same prefilling attack its "
                + "ASR at k = " + last + " is " + Figures.f2(deep.get(last).asDouble()) + ", against "
                + Figures.f2(chat.path(last).asDouble(Double.NaN)) + " for the chat model; its KL against the base is "
                + Figures.f2(deepKl.get("later_tokens_mean").asDouble()) + " nats per token after the first "
                + KlStep.FIRST_TOKENS + " tokens (chat: " + Figures.f2(chatKl.get("later_tokens_mean").asDouble()) + ")"
                + (deepKl.get("later_tokens_mean").asDouble() > 2 * chatKl.get("later_tokens_mean").asDouble()
                ? ": the alignment now reaches past the answer's first tokens." : ".")
                + " The table also gives the cost on benign requests (refusals, and utility: answers that state their task's "
                + "steps): a deeper refusal that also refuses benign requests is not a free gain.";
        Chart chart = Chart.line("Prefilling attack: chat model and its deep twin", "prefilled tokens k", "ASR")
                .series("chat", x, chatAsr).series("deep", x, deepAsr).yRange(0, 1);
        report.section(heading, sentence, chart.png(), table);
    }
}
