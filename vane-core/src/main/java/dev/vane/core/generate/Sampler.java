package dev.vane.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits, applying the processors in the order transformers applies them:
 * repetition penalty, temperature, top-k, top-p, min-p, then a draw from the remaining distribution.
 * Each sampler owns its random stream, so a sequence's output depends only on its seed.
 *
 * <pre>{@code
 * Sampler sampler = new Sampler(SamplingParams.greedy(32).withTemperature(0.7).withTopP(0.9), seed);
 * int next = sampler.next(logits, tokensSoFar, count);
 * }</pre>
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params, long seed) {
        this.params = params;
        this.random = new SplittableRandom(seed);
    }

    /**
     * The next token. {@code logits} is modified in place (it becomes the processed scores);
     * {@code history[0..length)} are the tokens so far (prompt and generated), for the repetition penalty.
     */
    public int next(float[] logits, int[] history, int length) {
        if (params.repetitionPenalty() != 1) applyRepetitionPenalty(logits, history, length, (float) params.repetitionPenalty());
        if (params.isGreedy()) return argmax(logits);
        float inv = (float) (1 / params.temperature());
        for (int i = 0; i < logits.length; i++) logits[i] *= inv;
        if (params.topK() > 0) topK(logits, params.topK());
        if (params.topP() < 1) topP(logits, params.topP());
        if (params.minP() > 0) minP(logits, params.minP());
        return draw(logits, random.nextDouble());
    }

    /** Tokens already present get logit / penalty when positive, logit x penalty when negative. */
    static void applyRepetitionPenalty(float[] logits, int[] history, int length, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < length; i++) {
            int t = history[i];
            if (t < 0 || t >= logits.length || seen[t]) continue;
            seen[t] = true;
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
    }

    /** Keeps logits >= the k-th largest (ties at the boundary kept); the rest become -infinity. */
    static void topK(float[] logits, int k) {
        if (k >= logits.length) return;
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float threshold = sorted[sorted.length - k];
        for (int i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /**
     * Keeps the most likely tokens until their probability reaches p: a token survives when the probability of
     * the tokens strictly more likely than it sums to less than p. The most likely token always survives.
     */
    static void topP(float[] logits, double p) {
        double[] probs = softmax(logits);
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        double cumulative = 0;
        for (int rank = 0; rank < order.length; rank++) {
            int i = order[rank];
            if (rank > 0 && cumulative >= p) logits[i] = Float.NEGATIVE_INFINITY;
            cumulative += probs[i];
        }
    }

    /** Drops tokens whose probability is below minP x the largest probability. */
    static void minP(float[] logits, double minP) {
        double[] probs = softmax(logits);
        double top = 0;
        for (double q : probs) top = Math.max(top, q);
        double threshold = minP * top;
        for (int i = 0; i < logits.length; i++) if (probs[i] < threshold) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /** Draws from softmax(logits) with a uniform number u in [0, 1). */
    static int draw(float[] logits, double u) {
        double[] probs = softmax(logits);
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] == 0) continue;
            cumulative += probs[i];
            last = i;
            if (u < cumulative) return i;
        }
        return last;    // rounding left u just above the total
    }

    /** Index of the largest value (the first one on ties, as torch.argmax). */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /** Softmax in double precision; -infinity logits get probability 0. */
    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
