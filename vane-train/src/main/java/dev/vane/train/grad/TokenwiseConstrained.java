package dev.vane.train.grad;

import dev.vane.core.tensor.ComputePool;

/**
 * The token-wise constrained objective of Qi et al. (2024), "Safety Alignment Should Be Made More Than Just a Few
 * Tokens Deep", section 4: fine-tuning that keeps each response token's log-probability near an aligned reference
 * model's, most of all on the first tokens, where shallow alignment lives.
 *
 * <p>For a scored token t with loss weight {@code w_t} (the example's mask), {@code delta_t = log p_theta(y_t) -
 * log p_ref(y_t)} and the beta of its position in the response {@code beta_t} ({@link ConstraintBetas}), the
 * objective is
 * <pre>
 *   L = sum_t w_t * (2 / beta_t) * -log sigmoid(beta_t * delta_t) / norm
 * </pre>
 * whose gradient is {@code sum_t w_t * c_t * grad(-log p_theta(y_t)) / norm} with {@code c_t = 2 (1 -
 * sigmoid(beta_t delta_t))}: cross-entropy weighted per token by how far the token already moved (c = 1 where the
 * model agrees with the reference, towards 0 once it is far more likely than there, towards 2 while it is less).
 * As in the paper's code ({@code soft_sft_loss}), the weight is a constant of the backward pass (stop-gradient)
 * and is clamped from below: {@code c_t = max(2 (1 - sigmoid(beta_t delta_t)), minWeight)} with minWeight 1e-3,
 * so the gradient never vanishes entirely. What this returns as the loss is that surrogate,
 * {@code sum_t w_t c_t (-log p_theta(y_t)) / norm}: its gradient is the objective's (exactly, where the clamp is
 * not active), and it is the number the paper's trainer logs. With unit weights and norm = the number of scored
 * tokens it is the paper's {@code losses.mean()}: the mean over every response token of the batch. The plain
 * cross-entropy and the weights' mean are kept for the trainer's metrics ({@link #crossEntropy},
 * {@link #weightSum}).
 *
 * <p>The sign: delta is positive when the fine-tuned model makes the token more likely than the reference did, and
 * then the weight falls below 1, braking further increase; a beta of 2 brakes 20 times sooner than 0.1.
 *
 * <pre>{@code
 * // two response tokens, the reference's log-probabilities from a frozen forward of the aligned model
 * Objective o = new TokenwiseConstrained(new int[]{42, 7}, new float[]{1, 1}, new double[]{-0.3, -2.1},
 *         new double[]{0.5, 2.0}, 2, TokenwiseConstrained.MIN_WEIGHT);
 * double loss = o.lossAndGradient(logits, 2, vocab, dLogits);
 * }</pre>
 */
public final class TokenwiseConstrained implements Objective {
    /** The paper's lower clamp of the per-token weight. */
    public static final double MIN_WEIGHT = 1e-3;

    private final int[] targets;
    private final float[] weights;
    private final double[] referenceLogProbs;
    private final double[] betas;
    private final double norm;
    private final double minWeight;
    private double crossEntropy = Double.NaN;
    private double weightSum = Double.NaN;

    /**
     * @param targets           the token scored at each position
     * @param weights           each position's loss weight (the example's mask: 0 or 1 as a rule)
     * @param referenceLogProbs log p_ref of each target under the reference model, same positions
     * @param betas             the beta of each position (by its place in its response, {@link ConstraintBetas})
     * @param norm              what the weighted sum is divided by (the step's weight sum, for a mean over tokens)
     * @param minWeight         lower clamp of the per-token weight ({@link #MIN_WEIGHT}); 0 for none
     */
    public TokenwiseConstrained(int[] targets, float[] weights, double[] referenceLogProbs, double[] betas, double norm,
                                double minWeight) {
        int n = targets.length;
        if (weights.length != n || referenceLogProbs.length != n || betas.length != n) {
            throw new IllegalArgumentException("targets, weights, reference log-probabilities and betas differ in length: "
                    + n + ", " + weights.length + ", " + referenceLogProbs.length + ", " + betas.length);
        }
        if (!(norm > 0)) throw new IllegalArgumentException("norm must be positive, got " + norm);
        if (!(minWeight >= 0 && minWeight <= 2)) throw new IllegalArgumentException("minimum weight must be in [0, 2], got " + minWeight);
        for (double b : betas) if (!(b > 0) || Double.isInfinite(b)) throw new IllegalArgumentException("beta must be > 0, got " + b);
        this.targets = targets;
        this.weights = weights;
        this.referenceLogProbs = referenceLogProbs;
        this.betas = betas;
        this.norm = norm;
        this.minWeight = minWeight;
    }

    /** The per-token weight {@code max(2 (1 - sigmoid(beta delta)), minWeight)}. */
    public static double weight(double delta, double beta, double minWeight) {
        // 1 - sigmoid(x) = 1 / (1 + e^x): no cancellation, and e^x = inf gives 0, then the clamp.
        return Math.max(2.0 / (1.0 + Math.exp(beta * delta)), minWeight);
    }

    /** One token's objective {@code (2 / beta) * -log sigmoid(beta delta)}, computed stably (softplus). */
    public static double objective(double delta, double beta) {
        double x = -beta * delta;      // -log sigmoid(-x) = softplus(x)
        double softplus = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
        return 2.0 / beta * softplus;
    }

    @Override
    public double lossAndGradient(float[] logits, int positions, int vocab, float[] dLogits) {
        if (positions != targets.length) throw new IllegalArgumentException(positions + " positions, " + targets.length + " targets");
        double[] losses = new double[positions], ces = new double[positions], cs = new double[positions];
        ComputePool.get().parallelFor(positions, p -> {
            int off = p * vocab;
            CrossEntropy.Exponentials e = CrossEntropy.Exponentials.into(logits, off, vocab, dLogits);
            double logp = e.logProb(logits[off + targets[p]]);
            double c = weight(logp - referenceLogProbs[p], betas[p], minWeight);
            double w = weights[p] / norm;
            losses[p] = w * c * -logp;
            ces[p] = w * -logp;
            cs[p] = w * c;
            // d(-log p)/d logits = softmax - onehot, scaled by the constant w c
            float scale = (float) (w * c / e.sum());
            for (int v = 0; v < vocab; v++) dLogits[off + v] *= scale;
            dLogits[off + targets[p]] -= (float) (w * c);
        });
        double loss = 0, ce = 0, ws = 0;
        for (int p = 0; p < positions; p++) {
            loss += losses[p];
            ce += ces[p];
            ws += cs[p];
        }
        crossEntropy = ce;
        weightSum = ws;
        return loss;
    }

    /** The plain weighted cross-entropy of the last call, {@code sum_t w_t (-log p_theta(y_t)) / norm}. */
    public double crossEntropy() {
        return crossEntropy;
    }

    /** {@code sum_t w_t c_t / norm} of the last call: divided by the same sum of w_t / norm, the mean weight. */
    public double weightSum() {
        return weightSum;
    }
}
