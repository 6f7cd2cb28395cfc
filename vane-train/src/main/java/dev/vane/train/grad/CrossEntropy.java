package dev.vane.train.grad;

import dev.vane.core.tensor.ComputePool;

/**
 * Weighted cross-entropy of target tokens: {@code loss = sum_i w_i * -log softmax(logits_i)[target_i] / norm}.
 * With unit weights and norm = the number of positions this is PyTorch's mean cross-entropy; a trainer that
 * accumulates micro-batches passes the whole step's weight sum as the norm so the step's loss is one mean.
 *
 * <pre>{@code
 * Objective ce = new CrossEntropy(new int[]{42, 7}, new float[]{1, 1}, 2);   // mean over two positions
 * }</pre>
 */
public final class CrossEntropy implements Objective {
    private final int[] targets;
    private final float[] weights;
    private final double norm;

    public CrossEntropy(int[] targets, float[] weights, double norm) {
        if (targets.length != weights.length) throw new IllegalArgumentException("targets and weights differ in length");
        if (!(norm > 0)) throw new IllegalArgumentException("norm must be positive, got " + norm);
        this.targets = targets;
        this.weights = weights;
        this.norm = norm;
    }

    @Override
    public double lossAndGradient(float[] logits, int positions, int vocab, float[] dLogits) {
        if (positions != targets.length) throw new IllegalArgumentException(positions + " positions, " + targets.length + " targets");
        double[] losses = new double[positions];
        // Positions are independent; their losses are summed in order afterwards, so threads do not change it.
        ComputePool.get().parallelFor(positions, p -> {
            int off = p * vocab;
            Exponentials e = Exponentials.into(logits, off, vocab, dLogits);
            double w = weights[p] / norm;
            losses[p] = w * -e.logProb(logits[off + targets[p]]);
            float scale = (float) (w / e.sum());
            for (int v = 0; v < vocab; v++) dLogits[off + v] *= scale;
            dLogits[off + targets[p]] -= (float) w;
        });
        double loss = 0;
        for (double l : losses) loss += l;
        return loss;
    }

    /**
     * One position's softmax numerator and normaliser: {@link #into} leaves exp(logit - max) in the gradient buffer,
     * so the gradient of a weighted -log p(target) is that buffer times weight / sum, minus the weight at the target.
     */
    record Exponentials(double max, double sum) {
        static Exponentials into(float[] logits, int off, int vocab, float[] out) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                double e = Math.exp(logits[off + v] - max);
                out[off + v] = (float) e;
                sum += e;
            }
            return new Exponentials(max, sum);
        }

        /** log softmax at a position whose logit is {@code logit}. */
        double logProb(double logit) {
            return logit - max - Math.log(sum);
        }
    }
}
