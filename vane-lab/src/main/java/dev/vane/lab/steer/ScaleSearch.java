package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.Outcome;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * Finds a vector's recommended scale by measurement: the largest scale, in the vector's positive direction, whose
 * greedy answers to benign tuning prompts stay fluent (a degenerate rate, by the {@link DegenerateRule} calibrated
 * on the unsteered model's own answers to the same prompts, of at most {@code limit}). From a quarter of the
 * builder's guess the scale doubles until it breaks the model (or reaches {@value #MOST_DOUBLINGS} doublings),
 * then two geometric bisections narrow the step to a factor of about 1.19. Steering that breaks the model at some
 * scale breaks it at larger ones too, so the search stops at the first break.
 *
 * <pre>{@code
 * ScaleSearch.Result r = ScaleSearch.run(model, tokenizer, vector, benignPrompts, 0.10, 48, d -> {});
 * r.scale();        // e.g. 47.9: the largest tried scale with at most 10% degenerate benign answers
 * r.basis();        // how it was found, stored in the vector's metadata
 * }</pre>
 */
public final class ScaleSearch {
    /** Doublings from a quarter of the guess: up to 1024 times the guess. */
    static final int MOST_DOUBLINGS = 12;
    /** Geometric bisections between the last fluent and the first broken scale. */
    static final int BISECTIONS = 2;

    /** One tried scale: {@code degenerate} of {@code n} benign answers were not fluent. */
    public record Step(double scale, int n, int degenerate) {
        public double rate() {
            return (double) degenerate / n;
        }
    }

    /**
     * The recommended scale (0 when even the smallest tried scale breaks the model) and every tried scale.
     *
     * @param scale the recommendation
     * @param steps the tried scales, in order
     * @param limit the largest degenerate rate allowed
     * @param basis how the scale was found, in words
     */
    public record Result(double scale, List<Step> steps, double limit, String basis) { }

    @FunctionalInterface
    private interface Probe {
        boolean fluentAt(double scale);
    }

    private ScaleSearch() {
    }

    /**
     * Searches from {@code vector}'s own recommended scale (the builder's guess, which must be positive) on
     * {@code prompts} (benign requests: answers to them should stay fluent).
     */
    public static Result run(Model model, Tokenizer tokenizer, SteeringVector vector, List<String> prompts, double limit,
                             int maxTokens, IntConsumer progress) {
        double start = vector.metadata().recommendedScale();
        if (!(start > 0) || Double.isInfinite(start)) throw new InvalidInputException("scale search needs a positive starting scale, got " + start);
        if (!(limit >= 0 && limit < 1)) throw new InvalidInputException("degenerate limit must be in [0, 1), got " + limit);
        if (prompts.isEmpty()) throw new InvalidInputException("scale search needs benign prompts");
        DegenerateRule rule = RefusalEvaluation.calibrate(model, tokenizer, prompts, maxTokens);
        RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, KeywordRefusalJudge.defaults(), rule);
        List<Step> steps = new ArrayList<>();
        Probe probe = scale -> {
            int before = steps.size() * prompts.size();
            RefusalEvaluation.Result r = eval.evaluate(prompts, "", Steering.of(vector, (float) scale),
                    SamplingParams.greedy(maxTokens), d -> progress.accept(before + d));
            Step step = new Step(scale, prompts.size(), (int) r.outcomes().stream().filter(o -> o == Outcome.DEGENERATE).count());
            steps.add(step);
            return step.rate() <= limit;
        };
        double fluent = 0, broken = Double.NaN;
        double scale = round(start / 4);
        for (int i = 0; i <= MOST_DOUBLINGS; i++, scale = round(scale * 2)) {
            if (!probe.fluentAt(scale)) {
                broken = scale;
                break;
            }
            fluent = scale;
        }
        for (int i = 0; i < BISECTIONS && fluent > 0 && !Double.isNaN(broken); i++) {
            double middle = round(Math.sqrt(fluent * broken));
            if (middle <= fluent || middle >= broken) break;
            if (probe.fluentAt(middle)) fluent = middle;
            else broken = middle;
        }
        double recommended = fluent;
        StringBuilder tried = new StringBuilder();
        for (Step s : steps) {
            if (!tried.isEmpty()) tried.append(", ");
            tried.append(String.format(Locale.ROOT, "%s: %d/%d", trim(s.scale()), s.degenerate(), s.n()));
        }
        String found = recommended == 0 ? "none qualified, so 0"
                : Double.isNaN(broken) ? "found " + trim(recommended) + "; no tried scale broke the model, so the limit lies higher"
                : "found " + trim(recommended) + "; " + trim(broken) + " broke it";
        String basis = String.format(Locale.ROOT, "largest tried scale with at most %.0f%% degenerate greedy answers to %d "
                + "benign prompts (%s); %s; tried (scale: degenerate/n) %s", 100 * limit, prompts.size(), found, rule, tried);
        return new Result(recommended, steps, limit, basis);
    }

    /** Three significant digits: a recommendation, not a measurement to ten places. */
    static double round(double v) {
        return new BigDecimal(v).round(new MathContext(3)).doubleValue();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
