package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.attack.AttackRun;
import dev.vane.lab.attack.PrefillAttack;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;

/**
 * Step 2, how shallow the alignment is: the prefilling attack ({@link PrefillAttack}, Qi et al. 2024), the first k
 * tokens of a harmful answer forced into the assistant turn, greedy continuation, keyword refusal judge; attack
 * success rate by k.
 */
final class PrefillStep implements DemoStep {
    @Override
    public String name() {
        return "prefill";
    }

    @Override
    public String description() {
        return "prefilling attack, ASR by number of prefilled tokens";
    }

    static PrefillAttack attack(DemoContext ctx) {
        return PrefillAttack.tokens(DemoSizes.first(ctx.inputs().responses(), ctx.sizes().prefillPairs()),
                ctx.sizes().prefillTokens(), 1, SamplingParams.greedy(ctx.sizes().maxNewTokens()), null);
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "attack-prefill").put("model", ctx.modelPath());
        c.set("data", DemoInputs.describe(ctx.inputs().responsesFile()));
        c.put("pairs", ctx.sizes().prefillPairs()).put("judge", KeywordRefusalJudge.defaults().configHash())
                .put("verdicts", OutcomeJudge.SCHEME);
        c.setAll(attack(ctx).config());
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        attack(ctx, ctx.model(), ctx.tokenizer(), ctx.placement(), run, progress);
    }

    /**
     * The step's attack on {@code model} (the chat model here, its deep twin in {@link DeepStep}), its work items run
     * where {@code placement} says (with the same model).
     */
    static void attack(DemoContext ctx, Model model, Tokenizer tokenizer, Placement placement, RunDirectory run,
                       StepProgress progress) {
        int[] done = {0};
        AttackRun.run(attack(ctx), new Generator(model, tokenizer), tokenizer,
                KeywordRefusalJudge.defaults(), Steering.none(), 16, run, new AttackRun.Listener() {
                    @Override
                    public void started(int pending, int total) {
                        progress.total(total);
                        done[0] = total - pending;
                        progress.done(done[0]);
                    }

                    @Override
                    public void done(String id) {
                        progress.done(++done[0]);
                    }
                }, placement);
    }

    @Override
    public ObjectNode headline(JsonNode summary) {
        ObjectNode h = RunDirectory.object().put("n", summary.get("n").asInt());
        h.set("asr_by_tokens", summary.get("asr_by_tokens").deepCopy());
        h.set("degenerate_rate_by_tokens", summary.get("degenerate_rate_by_tokens").deepCopy());
        return h;
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        List<String> ks = fieldNames(headline.get("asr_by_tokens"));
        JsonNode asr = headline.get("asr_by_tokens");
        String first = ks.getFirst(), second = ks.get(Math.min(1, ks.size() - 1)), last = ks.getLast();
        String sentence = "Forcing the first k tokens of a harmful answer into the assistant turn of "
                + headline.get("n").asInt() + " harmful requests takes the attack success rate (a fluent answer with no "
                + "refusal phrase) from " + Figures.f2(asr.get(first).asDouble()) + " at k = " + first + " to "
                + Figures.f2(asr.get(second).asDouble()) + " at k = " + second
                + (second.equals(last) ? "" : " and " + Figures.f2(asr.get(last).asDouble()) + " at k = " + last)
                + (asr.get(last).asDouble() > asr.get(first).asDouble() + 0.2
                ? ": once its answer has started, the model rarely goes back to refusing."
                : ": prefilling changes little here, the refusal does not hinge on the answer's first tokens.");
        HtmlReport.Table table = HtmlReport.Table.of("prefilled tokens k", "ASR (complied)", "95% CI", "refused", "degenerate");
        for (String k : ks) {
            JsonNode ci = summary.path("ci95_by_tokens").path(k);
            table.row(k, Figures.f2(asr.get(k).asDouble()), Figures.f2(ci.path(0).asDouble()) + " - "
                    + Figures.f2(ci.path(1).asDouble()), Figures.f2(summary.path("refusal_rate_by_tokens").path(k).asDouble(Double.NaN)),
                    Figures.f2(summary.path("degenerate_rate_by_tokens").path(k).asDouble(Double.NaN)));
        }
        report.section("2. How shallow is it? The prefilling attack", sentence, attack(ctx).chart(summary).png(), table);
    }

    static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
