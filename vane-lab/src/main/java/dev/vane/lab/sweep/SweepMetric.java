package dev.vane.lab.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.attack.AttackRun;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The behaviour a head sweep measures under each intervention: one number per evaluation of a steering. The
 * metrics made here also carry a {@link #recipe()}: what another JVM needs to make the same metric on its own copy
 * of the model ({@link #rebuild}), so that a sweep's heads can be measured on a cluster.
 *
 * <pre>{@code
 * SweepMetric ab = SweepMetric.ab(new AbEvaluation(model, tokenizer), questions);
 * double baseline = ab.measure(Steering.none());
 * SweepMetric same = SweepMetric.rebuild(ab.recipe(), otherCopy, tokenizer);
 * }</pre>
 *
 * @param name        short name: {@code ab}, {@code ab-logodds} or {@code refusal}
 * @param description what the number is, for charts and summaries
 * @param measurement the metric of one steering
 * @param recipe      how to make this metric again on another model copy, or null when it cannot be
 */
public record SweepMetric(String name, String description, ToDoubleFunction<Steering> measurement, JsonNode recipe) {

    /** A metric that can only run here (no recipe). */
    public SweepMetric(String name, String description, ToDoubleFunction<Steering> measurement) {
        this(name, description, measurement, null);
    }

    /** The metric with {@code steering} applied. */
    public double measure(Steering steering) {
        return measurement.applyAsDouble(steering);
    }

    /** Mean p(matching answer) of A/B questions (CAA's readout). */
    public static SweepMetric ab(AbEvaluation evaluation, List<AbQuestion> questions) {
        return new SweepMetric("ab", "mean p(matching answer) over " + questions.size() + " A/B questions",
                s -> evaluation.evaluate(questions, s, done -> { }).meanPMatching(), abRecipe("ab", evaluation, questions));
    }

    /**
     * Mean log-odds of the matching answer, {@code log p(matching) - log p(not matching)}: the same readout as
     * {@link #ab} without its saturation, so heads that move a model which always (or never) answers one way
     * still show their effect.
     */
    public static SweepMetric abLogOdds(AbEvaluation evaluation, List<AbQuestion> questions) {
        return new SweepMetric("ab-logodds", "mean log p(matching) - log p(not matching) over " + questions.size()
                + " A/B questions", s -> evaluation.evaluate(questions, s, done -> { }).meanLogOdds(),
                abRecipe("ab-logodds", evaluation, questions));
    }

    /**
     * Fluent refusal rate of the model's answers to {@code prompts} (greedy unless {@code params} say otherwise):
     * degenerate answers are not refusals, so a head that breaks the model does not score as making it refuse.
     */
    public static SweepMetric refusal(RefusalEvaluation evaluation, List<String> prompts, String prefill,
                                      SamplingParams params) {
        ObjectNode recipe = null;
        if (evaluation.refusalJudge() instanceof KeywordRefusalJudge keyword) {
            recipe = RunDirectory.object().put("name", "refusal").put("batch", evaluation.batchSize()).put("prefill", prefill);
            ArrayNode list = recipe.putArray("prompts");
            prompts.forEach(list::add);
            recipe.set("sampling", AttackRun.samplingJson(params));
            recipe.set("judge", keyword.json());
            recipe.set("rule", evaluation.rule().json());
        }
        return new SweepMetric("refusal", "fluent refusal rate (degenerate answers excluded: " + evaluation.rule()
                + ") over " + prompts.size() + " requests" + (prefill.isEmpty() ? "" : " prefilled \"" + prefill + "\""),
                s -> evaluation.evaluate(prompts, prefill, s, params, done -> { }).refusalRate(), recipe);
    }

    /** The metric whose {@link #recipe()} is {@code recipe}, on {@code model}. */
    public static SweepMetric rebuild(JsonNode recipe, Model model, Tokenizer tokenizer) {
        String name = recipe.get("name").asText();
        if (name.equals("refusal")) {
            List<String> prompts = new ArrayList<>();
            recipe.get("prompts").forEach(p -> prompts.add(p.asText()));
            RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, KeywordRefusalJudge.fromJson(recipe.get("judge")),
                    DegenerateRule.fromJson(recipe.get("rule"))).batchSize(recipe.get("batch").asInt());
            return refusal(eval, prompts, recipe.get("prefill").asText(), AttackRun.sampling(recipe.get("sampling")));
        }
        List<AbQuestion> questions = new ArrayList<>();
        recipe.get("questions").forEach(q -> questions.add(AbQuestion.fromJson(q)));
        AbEvaluation eval = new AbEvaluation(model, tokenizer).batchSize(recipe.get("batch").asInt())
                .reusePrefixes(recipe.get("reuse_prefixes").asBoolean());
        return switch (name) {
            case "ab" -> ab(eval, questions);
            case "ab-logodds" -> abLogOdds(eval, questions);
            default -> throw new InvalidInputException("unknown sweep metric in a recipe: " + name);
        };
    }

    private static ObjectNode abRecipe(String name, AbEvaluation evaluation, List<AbQuestion> questions) {
        ObjectNode recipe = RunDirectory.object().put("name", name).put("batch", evaluation.batchSize())
                .put("reuse_prefixes", evaluation.reusesPrefixes());
        ArrayNode list = recipe.putArray("questions");
        questions.forEach(q -> list.add(q.json()));
        return recipe;
    }
}
