package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.kl.PerTokenKl;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;

import java.util.List;

/**
 * Step 1, where alignment lives: per-token KL of the chat model against its base along teacher-forced harmful
 * answers ({@link PerTokenKl}, Qi et al. 2024), each model with its own chat template.
 */
final class KlStep implements DemoStep {
    /** The first positions compared with the rest: Qi et al. find the KL concentrated there. */
    static final int FIRST_TOKENS = 5;

    @Override
    public String name() {
        return "kl";
    }

    @Override
    public String description() {
        return "per-token KL of the chat model against its base on harmful answers";
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "kl").put("model", ctx.modelPath()).put("base", ctx.basePath());
        c.set("data", DemoInputs.describe(ctx.inputs().responsesFile()));
        c.put("pairs", ctx.sizes().klPairs()).put("max_positions", ctx.sizes().klPositions())
                .put("prompt_format", "chat").put("base_prompt_format", ownTemplate(ctx) ? "chat" : "the chat model's chat template").put("kl", "KL(p_model || p_base), natural log, float64");
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        measure(ctx, ctx.model(), ctx.tokenizer(), run, progress);
    }

    /** KL of {@code model} (the chat model here, its deep twin in {@link DeepStep}) against the base. */
    static void measure(DemoContext ctx, Model model, Tokenizer tokenizer, RunDirectory run, StepProgress progress) {
        List<PromptResponse> pairs = DemoSizes.first(ctx.inputs().responses(), ctx.sizes().klPairs());
        PromptFormat chat = PromptFormat.chat(tokenizer, null, "");
        PromptFormat base = ownTemplate(ctx) ? PromptFormat.chat(ctx.baseTokenizer(), null, "") : chat;
        List<PerTokenKl.Item> items = PerTokenKl.teacherForced(pairs, chat, tokenizer, base, ctx.baseTokenizer(),
                ctx.sizes().klPositions());
        progress.total(items.size());
        new PerTokenKl(model, ctx.base()).run(items, run, progress.counting(0));
    }

    /**
     * True when the base has its own chat template. Base checkpoints usually have none (Llama-2-7b-hf): the base
     * then reads the prompt in the chat model's template, as Qi et al. compare them; PerTokenKl checks that the two
     * tokenizers agree.
     */
    private static boolean ownTemplate(DemoContext ctx) {
        return ctx.baseTokenizer().chatTemplate().isPresent();
    }

    /**
     * {@code first_token}: the mean KL at the first answer token; {@code first_tokens_mean} and
     * {@code later_tokens_mean}: the mean over every (pair, position) value in the first {@value #FIRST_TOKENS}
     * positions and in those after (each position's mean weighted by the pairs that reach it, so the few longest
     * answers do not dominate the tail).
     */
    @Override
    public ObjectNode headline(JsonNode summary) {
        double[] mean = Figures.doubles(summary.get("mean_kl_by_position"));
        double[] count = Figures.doubles(summary.get("count_by_position"));
        return RunDirectory.object().put("pairs", summary.get("n").asInt()).put("first_tokens", FIRST_TOKENS)
                .put("first_token", mean[0])
                .put("first_tokens_mean", weightedMean(mean, count, 0, FIRST_TOKENS))
                .put("later_tokens_mean", weightedMean(mean, count, FIRST_TOKENS, mean.length))
                .put("share_in_first_5", summary.get("share_in_first_5").asDouble())
                .put("mean_kl", summary.get("mean_kl").asDouble());
    }

    private static double weightedMean(double[] mean, double[] count, int from, int to) {
        double sum = 0, n = 0;
        for (int k = from; k < Math.min(to, mean.length); k++) {
            sum += mean[k] * count[k];
            n += count[k];
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        double token0 = headline.get("first_token").asDouble();
        double first = headline.get("first_tokens_mean").asDouble(), later = headline.get("later_tokens_mean").asDouble();
        String where = token0 > 2 * later
                ? "alignment changed the first token of the answer far more than the rest (shallow alignment)"
                : "the difference is spread along the answer rather than concentrated at its start";
        String sentence = "Teacher-forcing " + headline.get("pairs").asInt() + " harmful answers, the chat model's "
                + "next-token distribution differs from its base's by " + Figures.f2(token0) + " nats at the first answer "
                + "token, " + Figures.f2(first) + " nats per token over the first " + FIRST_TOKENS + " and "
                + Figures.f2(later) + " after them: " + where + ".";
        double[] mean = Figures.doubles(summary.get("mean_kl_by_position"));
        HtmlReport.Table table = HtmlReport.Table.of("answer token", "mean KL (nats)");
        for (int k = 0; k < Math.min(mean.length, 10); k++) table.row(Integer.toString(k), Figures.f2(mean[k]));
        table.row("first " + FIRST_TOKENS + " (mean)", Figures.f2(first)).row("after (mean)", Figures.f2(later));
        report.section("1. Where does alignment live? Per-token KL against the base", sentence,
                PerTokenKl.chart(report(summary)).png(), table);
    }

    /** The KL report as its summary records it (the chart is drawn from it, on a fresh run and a resumed one). */
    private static PerTokenKl.Report report(JsonNode s) {
        JsonNode counts = s.get("count_by_position");
        int[] count = new int[counts.size()];
        for (int i = 0; i < count.length; i++) count[i] = counts.get(i).asInt();
        return new PerTokenKl.Report(s.get("n").asInt(), Figures.doubles(s.get("mean_kl_by_position")),
                Figures.doubles(s.get("std_kl_by_position")), Figures.doubles(s.get("median_kl_by_position")), count,
                s.get("mean_kl").asDouble());
    }
}
