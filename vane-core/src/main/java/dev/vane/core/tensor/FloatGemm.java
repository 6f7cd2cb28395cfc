package dev.vane.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Matrix products of float32 arrays held row-major, for what is not a weight matrix: LoRA's low-rank factors
 * and the backward pass's weight gradients. Every form reduces to the "NT" product {@code C = A B^T}, whose
 * inner loop is a dot product of two contiguous rows; the other forms transpose an operand first (linear in
 * its size, small beside the cubic product).
 *
 * <pre>{@code
 * float[] c = new float[m * n];
 * FloatGemm.nt(a, b, m, n, k, c, false);     // c[i, j] = sum_p a[i, p] * b[j, p]
 * FloatGemm.tn(dy, x, t, out, in, dw, true);  // dw[o, i] += sum_t dy[t, o] * x[t, i]  (a weight gradient)
 * }</pre>
 *
 * <p>Work is split over blocks of rows of A across the {@link ComputePool}; each output is one dot product in a
 * fixed order, so results do not depend on the thread count.
 */
public final class FloatGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows of A per unit of parallel work. */
    private static final int ROW_BLOCK = 16;

    private FloatGemm() {
    }

    /** {@code c[i, j] (+)= sum_p a[i, p] * b[j, p]}: a is [m, k], b is [n, k], c is [m, n]. */
    public static void nt(float[] a, float[] b, int m, int n, int k, float[] c, boolean accumulate) {
        if (useBlas(m, n, k)) {
            blas(false, true, a, b, m, n, k, c, accumulate);
            return;
        }
        int blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        ComputePool.get().parallelFor(blocks, blk -> {
            int from = blk * ROW_BLOCK, to = Math.min(m, from + ROW_BLOCK);
            block(a, from * k, to - from, b, 0, n, k, c, from * n, n, 1, accumulate);
        });
    }

    /**
     * The micro-kernel under every product: for i < ni rows of a (from aOff, stride k) and j < nj rows of b
     * (from bOff, stride k), {@code c[cOff + i * ci + j * cj] (+)= dot(a_i, b_j)}, four a-rows by three b-rows
     * at a time (12 accumulators, 7 loads per 12 FMAs) so that the FMA units, not the loads, set the pace.
     */
    static void block(float[] a, int aOff, int ni, float[] b, int bOff, int nj, int k, float[] c, int cOff,
                      int ci, int cj, boolean accumulate) {
        int j = 0;
        for (; j + 3 <= nj; j += 3) {
            int i = 0;
            for (; i + 4 <= ni; i += 4) {
                kernel4x3(a, aOff + i * k, b, bOff + j * k, k, c, cOff + i * ci + j * cj, ci, cj, accumulate);
            }
            for (; i < ni; i++) {
                for (int q = 0; q < 3; q++) {
                    store(c, cOff + i * ci + (j + q) * cj, VectorMath.dot(a, aOff + i * k, b, bOff + (j + q) * k, k),
                            accumulate);
                }
            }
        }
        for (; j < nj; j++) {
            for (int i = 0; i < ni; i++) {
                store(c, cOff + i * ci + j * cj, VectorMath.dot(a, aOff + i * k, b, bOff + j * k, k), accumulate);
            }
        }
    }

    /** Four rows of a (from a0) against three rows of b (from b0): 12 dot products, stored from c0. */
    private static void kernel4x3(float[] a, int a0, float[] b, int b0, int k, float[] c, int c0, int ci, int cj,
                                  boolean accumulate) {
        int a1 = a0 + k, a2 = a1 + k, a3 = a2 + k, b1 = b0 + k, b2 = b1 + k;
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00,
                s20 = s00, s21 = s00, s22 = s00, s30 = s00, s31 = s00, s32 = s00;
        int p = 0;
        for (int bound = F.loopBound(k); p < bound; p += L) {
            FloatVector v0 = FloatVector.fromArray(F, b, b0 + p);
            FloatVector v1 = FloatVector.fromArray(F, b, b1 + p);
            FloatVector v2 = FloatVector.fromArray(F, b, b2 + p);
            FloatVector u = FloatVector.fromArray(F, a, a0 + p);
            s00 = u.fma(v0, s00); s01 = u.fma(v1, s01); s02 = u.fma(v2, s02);
            u = FloatVector.fromArray(F, a, a1 + p);
            s10 = u.fma(v0, s10); s11 = u.fma(v1, s11); s12 = u.fma(v2, s12);
            u = FloatVector.fromArray(F, a, a2 + p);
            s20 = u.fma(v0, s20); s21 = u.fma(v1, s21); s22 = u.fma(v2, s22);
            u = FloatVector.fromArray(F, a, a3 + p);
            s30 = u.fma(v0, s30); s31 = u.fma(v1, s31); s32 = u.fma(v2, s32);
        }
        if (p == k) {                                   // the usual case: widths are multiples of the vector
            store(c, c0, VectorMath.sum(s00), accumulate);
            store(c, c0 + cj, VectorMath.sum(s01), accumulate);
            store(c, c0 + 2 * cj, VectorMath.sum(s02), accumulate);
            store(c, c0 + ci, VectorMath.sum(s10), accumulate);
            store(c, c0 + ci + cj, VectorMath.sum(s11), accumulate);
            store(c, c0 + ci + 2 * cj, VectorMath.sum(s12), accumulate);
            store(c, c0 + 2 * ci, VectorMath.sum(s20), accumulate);
            store(c, c0 + 2 * ci + cj, VectorMath.sum(s21), accumulate);
            store(c, c0 + 2 * ci + 2 * cj, VectorMath.sum(s22), accumulate);
            store(c, c0 + 3 * ci, VectorMath.sum(s30), accumulate);
            store(c, c0 + 3 * ci + cj, VectorMath.sum(s31), accumulate);
            store(c, c0 + 3 * ci + 2 * cj, VectorMath.sum(s32), accumulate);
            return;
        }
        float[] s = {VectorMath.sum(s00), VectorMath.sum(s01), VectorMath.sum(s02),
                VectorMath.sum(s10), VectorMath.sum(s11), VectorMath.sum(s12),
                VectorMath.sum(s20), VectorMath.sum(s21), VectorMath.sum(s22),
                VectorMath.sum(s30), VectorMath.sum(s31), VectorMath.sum(s32)};
        for (; p < k; p++) {
            for (int ri = 0; ri < 4; ri++) {
                float av = a[a0 + ri * k + p];
                s[ri * 3] += av * b[b0 + p];
                s[ri * 3 + 1] += av * b[b1 + p];
                s[ri * 3 + 2] += av * b[b2 + p];
            }
        }
        for (int ri = 0; ri < 4; ri++) {
            for (int q = 0; q < 3; q++) store(c, c0 + ri * ci + q * cj, s[ri * 3 + q], accumulate);
        }
    }

    private static void store(float[] c, int at, float v, boolean accumulate) {
        c[at] = accumulate ? c[at] + v : v;
    }

    /** {@code c (+)= a b}: a is [m, k], b is [k, n], c is [m, n]. */
    public static void nn(float[] a, float[] b, int m, int n, int k, float[] c, boolean accumulate) {
        if (useBlas(m, n, k)) {
            blas(false, false, a, b, m, n, k, c, accumulate);
            return;
        }
        nt(a, transpose(b, k, n), m, n, k, c, accumulate);
    }

    /** {@code c (+)= a^T b}: a is [k, m], b is [k, n], c is [m, n] (a weight gradient dY^T X). */
    public static void tn(float[] a, float[] b, int k, int m, int n, float[] c, boolean accumulate) {
        if (useBlas(m, n, k)) {
            blas(true, false, a, b, m, n, k, c, accumulate);
            return;
        }
        nt(transpose(a, k, m), transpose(b, k, n), m, n, k, c, accumulate);
    }

    /** OpenBLAS pays off from a few hundred thousand multiply-adds on (LoRA's smallest products stay here). */
    private static boolean useBlas(int m, int n, int k) {
        return Blas.use((long) m * n * k >= 1 << 18);
    }

    /**
     * c (+)= op(a) op(b) through OpenBLAS, the rows of c dealt out over the pool: a is [m, k] (or [k, m] when
     * transA), b is [n, k] when transB, else [k, n].
     */
    private static void blas(boolean transA, boolean transB, float[] a, float[] b, int m, int n, int k, float[] c,
                             boolean accumulate) {
        int parts = Math.min(ComputePool.get().threads(), Math.max(1, m / 8));
        MemorySegment as = MemorySegment.ofArray(a), bs = MemorySegment.ofArray(b), cs = MemorySegment.ofArray(c);
        ComputePool.get().parallelFor(parts, part -> {
            int from = (int) ((long) m * part / parts), to = (int) ((long) m * (part + 1) / parts);
            if (to == from) return;
            MemorySegment ap = transA ? as.asSlice(4L * from) : as.asSlice(4L * from * k);
            Blas.sgemm(transA, transB, to - from, n, k, ap, transA ? m : k, bs, transB ? k : n,
                    accumulate ? 1f : 0f, cs.asSlice(4L * from * n), n);
        });
    }

    /** The transpose [cols, rows] of a row-major [rows, cols] array. */
    public static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            for (int c0 = 0; c0 < cols; c0 += tile) {
                for (int r = r0, re = Math.min(rows, r0 + tile); r < re; r++) {
                    for (int c = c0, ce = Math.min(cols, c0 + tile); c < ce; c++) t[c * rows + r] = a[r * cols + c];
                }
            }
        }
        return t;
    }
}
