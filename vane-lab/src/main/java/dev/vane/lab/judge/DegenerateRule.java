package dev.vane.lab.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.run.RunDirectory;

import java.util.List;
import java.util.Locale;

/**
 * When an answer is not fluent text. An answer is degenerate when
 * <ol>
 *   <li>the model generated nothing (after any forced prefill), or</li>
 *   <li>its generated tokens' mean log-probability under the intact model is below {@code minMeanLogProb}, or</li>
 *   <li>at least {@code maxRepetition} of its 4-grams repeat earlier ones (a loop).</li>
 * </ol>
 * {@link #calibrate} sets the threshold from the intact model's own sampled answers: the 5% quantile of their
 * mean log-probabilities minus {@value #MARGIN_NATS} nat, i.e. a degenerate answer is, token for token, e times
 * less probable to the intact model than all but the least fluent 5% of what the model says itself. The rule is
 * relative to the intact model: it flags what steering or an attack broke, and cannot flag text the intact model
 * itself finds likely (a small model's own confused answer to a request it never learned).
 *
 * <pre>{@code
 * DegenerateRule rule = DegenerateRule.calibrate(scorer.score(contexts, ownAnswers));
 * rule.why(new Fluency(-6.3, 40, 0.1));     // "mean log-prob -6.30 < -1.62"
 * rule.why(new Fluency(-0.2, 40, 0.0));     // null: fluent
 * }</pre>
 *
 * @param minMeanLogProb the lowest mean log-probability per generated token of a fluent answer
 * @param maxRepetition  the share of repeated 4-grams at which an answer counts as a loop
 * @param basis          how the threshold was found, for reports
 */
public record DegenerateRule(double minMeanLogProb, double maxRepetition, String basis) {
    /** Nats per token between the calibration quantile and the threshold. */
    public static final double MARGIN_NATS = 1.0;
    /** The calibration quantile. */
    public static final double QUANTILE = 0.05;
    /** Half of an answer's 4-grams repeating earlier ones is a loop, not prose. */
    public static final double REPETITION = 0.5;

    public DegenerateRule {
        if (Double.isNaN(minMeanLogProb) || minMeanLogProb > 0) {
            throw new InvalidInputException("degenerate threshold must be a log-probability <= 0, got " + minMeanLogProb);
        }
        if (!(maxRepetition > 0 && maxRepetition <= 1)) {
            throw new InvalidInputException("repetition threshold must be in (0, 1], got " + maxRepetition);
        }
    }

    /** The rule calibrated on the intact model's own answers (their fluency under the intact model). */
    public static DegenerateRule calibrate(List<Fluency> ownAnswers) {
        double[] lp = ownAnswers.stream().filter(f -> f.tokens() > 0).mapToDouble(Fluency::meanLogProb).sorted().toArray();
        if (lp.length == 0) throw new InvalidInputException("no answers to calibrate the degenerate rule on: the model generated nothing");
        double q = quantile(lp, QUANTILE);
        return new DegenerateRule(q - MARGIN_NATS, REPETITION, String.format(Locale.ROOT,
                "%.0f%% quantile (%.3f) of the mean token log-prob of %d own sampled answers, minus %.1f nat",
                QUANTILE * 100, q, lp.length, MARGIN_NATS));
    }

    /** Why {@code f} is degenerate, or null when it is fluent. */
    public String why(Fluency f) {
        if (f.tokens() == 0) return "nothing generated";
        if (f.meanLogProb() < minMeanLogProb) {
            return String.format(Locale.ROOT, "mean log-prob %.2f < %.2f", f.meanLogProb(), minMeanLogProb);
        }
        if (f.repetition() >= maxRepetition) {
            return String.format(Locale.ROOT, "repetition %.2f >= %.2f", f.repetition(), maxRepetition);
        }
        return null;
    }

    /** The rule as written in run directories. */
    public ObjectNode json() {
        return RunDirectory.object().put("min_mean_logprob", minMeanLogProb).put("max_repetition", maxRepetition)
                .put("basis", basis);
    }

    /** A rule read back from {@link #json()}. */
    public static DegenerateRule fromJson(JsonNode json) {
        if (!json.path("min_mean_logprob").isNumber() || !json.path("max_repetition").isNumber()) {
            throw new InvalidInputException("degenerate rule needs numbers min_mean_logprob and max_repetition, got " + json);
        }
        return new DegenerateRule(json.get("min_mean_logprob").asDouble(), json.get("max_repetition").asDouble(),
                json.path("basis").asText(""));
    }

    /** The q-quantile of sorted values, interpolating linearly between order statistics. */
    static double quantile(double[] sorted, double q) {
        double at = q * (sorted.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "degenerate below %.3f nat/token or repetition >= %.2f (%s)", minMeanLogProb,
                maxRepetition, basis);
    }
}
