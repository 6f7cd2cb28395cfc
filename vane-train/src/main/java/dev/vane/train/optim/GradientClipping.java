package dev.vane.train.optim;

import dev.vane.core.tensor.ComputePool;

import java.util.List;

/**
 * Gradient clipping by global norm, as PyTorch's {@code torch.nn.utils.clip_grad_norm_(params, max_norm)} with the
 * 2-norm: the norm is taken over all gradients together (the square root of the sum of every element's square),
 * and when {@code maxNorm / (norm + 1e-6)} is below 1 every gradient is multiplied by it.
 *
 * <p>Sums are taken in double over fixed chunks added in a fixed order, so the result does not depend on the
 * number of threads. A non-finite norm (an overflowed or NaN gradient) leaves the gradients as they are and is
 * returned, for the trainer to report; PyTorch would multiply them by NaN.
 *
 * <pre>{@code
 * double norm = GradientClipping.clipByGlobalNorm(optimizer.grads(), 1.0);   // logged as grad_norm
 * }</pre>
 */
public final class GradientClipping {
    /** Added to the norm before dividing, as PyTorch does. */
    public static final double EPSILON = 1e-6;
    private static final int CHUNK = 1 << 16;

    private GradientClipping() {
    }

    /**
     * Scales the gradients in place so that their global 2-norm is at most about {@code maxNorm}.
     *
     * @param maxNorm the largest norm kept ({@code Double.POSITIVE_INFINITY} only measures)
     * @return the global norm before clipping
     * @throws IllegalArgumentException if {@code maxNorm} is not positive
     */
    public static double clipByGlobalNorm(List<float[]> grads, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("the clipping norm must be > 0, got " + maxNorm);
        double norm = globalNorm(grads);
        if (!Double.isFinite(norm)) return norm;
        double scale = maxNorm / (norm + EPSILON);
        if (scale < 1) {
            float s = (float) scale;
            for (float[] g : grads) {
                forChunks(g.length, (from, to) -> {
                    for (int j = from; j < to; j++) g[j] *= s;
                });
            }
        }
        return norm;
    }

    /** The 2-norm of all the gradients taken together. */
    public static double globalNorm(List<float[]> grads) {
        double sum = 0;
        for (float[] g : grads) {
            int chunks = (g.length + CHUNK - 1) / CHUNK;
            double[] partial = new double[chunks];
            forChunks(g.length, (from, to) -> {
                double s = 0;
                for (int j = from; j < to; j++) s += (double) g[j] * g[j];
                partial[from / CHUNK] = s;
            });
            for (double p : partial) sum += p;
        }
        return Math.sqrt(sum);
    }

    private interface Range {
        void run(int from, int to);
    }

    private static void forChunks(int n, Range body) {
        int chunks = (n + CHUNK - 1) / CHUNK;
        if (chunks <= 1) {
            if (n > 0) body.run(0, n);
            return;
        }
        ComputePool.get().parallelFor(chunks, c -> body.run(c * CHUNK, Math.min(n, (c + 1) * CHUNK)));
    }
}
