package dev.vane.lab.align;

import dev.vane.core.InvalidInputException;

import java.util.Random;

/**
 * How many tokens of the harmful answer a safety-recovery example starts with (Qi et al. 2024, section 3): k = 0
 * with probability {@code pZero}, else uniform in 1..min(maxK, |h|). The paper's values are 0.5 and 100; its
 * trainer tosses the same coin ({@code randint(0, 1)}) and draws {@code randint(1, min(100, len(h)))}.
 *
 * <p>Draws come from a {@link Random} the caller seeds: its algorithm is fixed by the Java specification, so the
 * same seed gives the same k on every JVM.
 *
 * <pre>{@code
 * PrefixLength lengths = PrefixLength.paper();
 * Random random = new Random(0);
 * int k = lengths.draw(random, 57);   // 0 half of the time, else 1..57
 * }</pre>
 *
 * @param pZero probability of k = 0 (no harmful prefix: the plain refusal)
 * @param maxK  largest k
 */
public record PrefixLength(double pZero, int maxK) {
    public PrefixLength {
        if (!(pZero >= 0 && pZero <= 1)) throw new InvalidInputException("the probability of k = 0 must be in [0, 1], got " + pZero);
        if (maxK < 1) throw new InvalidInputException("the largest prefix length must be >= 1, got " + maxK);
    }

    /** k = 0 half of the time, else uniform in 1..min(100, |h|). */
    public static PrefixLength paper() {
        return new PrefixLength(0.5, 100);
    }

    /**
     * One k for a harmful answer of {@code answerTokens} tokens: one coin, then (when not 0) one uniform draw, so
     * every example consumes two draws of {@code random} or one.
     */
    public int draw(Random random, int answerTokens) {
        if (answerTokens < 1) throw new IllegalArgumentException("the harmful answer has no tokens");
        if (random.nextDouble() < pZero) return 0;
        return 1 + random.nextInt(Math.min(maxK, answerTokens));
    }
}
