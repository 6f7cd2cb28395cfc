package dev.vane.lab.judge;

import java.util.HashSet;
import java.util.Set;

/**
 * How fluent an answer is, measured on the tokens the model generated (not on a forced prefill):
 * {@code meanLogProb} is their mean log-probability under the intact (unsteered) model, teacher-forced after the
 * prompt, and {@code repetition} the share of their 4-grams that already occurred earlier in the answer.
 * A steered model that breaks writes text the intact model finds improbable; a model stuck in a loop writes
 * 4-grams it already wrote.
 *
 * <pre>{@code
 * Fluency f = scorer.score(contextIds, generatedIds);
 * f.meanLogProb();                        // e.g. -0.12 for the model's own answer, -6.3 for word salad
 * Fluency.repetition(new int[]{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4});   // 5 of 9 4-grams repeat: 0.556
 * }</pre>
 *
 * @param meanLogProb mean natural-log probability per generated token; 0 when there are none
 * @param tokens      generated tokens scored
 * @param repetition  share of 4-grams seen before in the same answer, in [0, 1); 0 with fewer than 4 tokens
 */
public record Fluency(double meanLogProb, int tokens, double repetition) {
    /** The n of the n-grams {@link #repetition(int[])} counts. */
    public static final int NGRAM = 4;

    /** The share of {@code tokens}' {@value #NGRAM}-grams that occurred earlier in {@code tokens}. */
    public static double repetition(int[] tokens) {
        int grams = tokens.length - NGRAM + 1;
        if (grams <= 0) return 0;
        Set<Gram> seen = new HashSet<>();
        int repeated = 0;
        for (int i = 0; i < grams; i++) {
            if (!seen.add(new Gram(tokens[i], tokens[i + 1], tokens[i + 2], tokens[i + 3]))) repeated++;
        }
        return (double) repeated / grams;
    }

    private record Gram(int a, int b, int c, int d) { }
}
