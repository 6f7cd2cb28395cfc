package dev.vane.lab.sweep;

import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.steer.Steering;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The behaviour a head sweep measures under each intervention: one number per evaluation of a steering.
 *
 * <pre>{@code
 * SweepMetric ab = SweepMetric.ab(new AbEvaluation(model, tokenizer), questions);
 * double baseline = ab.measure(Steering.none());
 * }</pre>
 *
 * @param name        short name: {@code ab}, {@code ab-logodds} or {@code refusal}
 * @param description what the number is, for charts and summaries
 * @param measurement the metric of one steering
 */
public record SweepMetric(String name, String description, ToDoubleFunction<Steering> measurement) {

    /** The metric with {@code steering} applied. */
    public double measure(Steering steering) {
        return measurement.applyAsDouble(steering);
    }

    /** Mean p(matching answer) of A/B questions (CAA's readout). */
    public static SweepMetric ab(AbEvaluation evaluation, List<AbQuestion> questions) {
        return new SweepMetric("ab", "mean p(matching answer) over " + questions.size() + " A/B questions",
                s -> evaluation.evaluate(questions, s, done -> { }).meanPMatching());
    }

    /**
     * Mean log-odds of the matching answer, {@code log p(matching) - log p(not matching)}: the same readout as
     * {@link #ab} without its saturation, so heads that move a model which always (or never) answers one way
     * still show their effect.
     */
    public static SweepMetric abLogOdds(AbEvaluation evaluation, List<AbQuestion> questions) {
        return new SweepMetric("ab-logodds", "mean log p(matching) - log p(not matching) over " + questions.size()
                + " A/B questions", s -> evaluation.evaluate(questions, s, done -> { }).meanLogOdds());
    }

    /**
     * Fluent refusal rate of the model's answers to {@code prompts} (greedy unless {@code params} say otherwise):
     * degenerate answers are not refusals, so a head that breaks the model does not score as making it refuse.
     */
    public static SweepMetric refusal(RefusalEvaluation evaluation, List<String> prompts, String prefill,
                                      SamplingParams params) {
        return new SweepMetric("refusal", "fluent refusal rate (degenerate answers excluded: " + evaluation.rule()
                + ") over " + prompts.size() + " requests" + (prefill.isEmpty() ? "" : " prefilled \"" + prefill + "\""),
                s -> evaluation.evaluate(prompts, prefill, s, params, done -> { }).refusalRate());
    }
}
