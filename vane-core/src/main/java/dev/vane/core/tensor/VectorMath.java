package dev.vane.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised float kernels on slices of arrays, used where the forward pass works vector by vector
 * (attention scores and value mixing, residual adds). Sums are taken in a fixed order so that results are
 * reproducible bit for bit.
 *
 * <pre>{@code
 * float s = VectorMath.dot(q, qOff, k, kOff, headDim);
 * VectorMath.axpy(p, v, vOff, z, zOff, headDim);      // z += p * v
 * }</pre>
 */
public final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VectorMath() {
    }

    /** Dot product of {@code a[aOff, aOff+n)} and {@code b[bOff, bOff+n)}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** {@code y[yOff, yOff+n) += alpha * x[xOff, xOff+n)}. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** {@code y[i] += x[i]} over whole arrays of equal length. */
    public static void add(float[] y, float[] x) {
        int i = 0;
        for (int bound = F.loopBound(y.length); i < bound; i += L) {
            FloatVector.fromArray(F, y, i).add(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < y.length; i++) y[i] += x[i];
    }

    /** Butterfly permutations: lane i swaps with lane i ^ step, for step = L/2, L/4, ..., 1. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterfly() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int step = L >> (k + 1);
            s[k] = VectorShuffle.fromOp(F, i -> i ^ step);
        }
        return s;
    }

    /**
     * Sum of the lanes in a fixed order (a butterfly of lane-wise adds). reduceLanes(ADD) may change its order
     * when the JIT recompiles, which makes identical calls differ in the last bits; lane(i) with a variable
     * index is not intrinsified, and a temporary array is not always kept off the heap.
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : BUTTERFLY) v = v.add(v.rearrange(s));
        return v.lane(0);
    }
}
