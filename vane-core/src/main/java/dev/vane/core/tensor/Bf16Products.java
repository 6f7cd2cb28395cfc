package dev.vane.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A {@link Matrix}'s products in {@link Compute#BF16} through oneDNN: bf16 activations times bf16 weights, summed
 * in float32. Work is split as for OpenBLAS (output rows for the forward, blocks of input columns for the
 * transposed product, one thread each); bf16 weights are passed straight from the mapping, other dtypes are
 * decoded and rounded a block at a time into a per-thread buffer. oneDNN writes into a per-thread native buffer,
 * copied into the caller's array.
 */
final class Bf16Products {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    /** Most weight rows per oneDNN call (and per decoded block), as for OpenBLAS. */
    private static final int CALL_ROWS = 1024;
    /** Columns of W per thread block in the transposed product. */
    private static final int COLUMN_BLOCK = 128;

    /** The caller's input rounded to bf16, read by every thread of the product. */
    private static final NativeScratch INPUT = new NativeScratch();
    /** Per thread: a block of decoded weights (non-bf16 dtypes) or a slab of dy, as bf16. */
    private static final NativeScratch WEIGHTS = new NativeScratch();
    private static final NativeScratch SLAB = new NativeScratch();
    /** Per thread: oneDNN's float32 output before it is copied into the caller's array. */
    private static final NativeScratch OUTPUT = new NativeScratch();

    private Bf16Products() {
    }

    /** {@code outs[i] = x . ms[i]^T} for every matrix; x is [tokens, cols], rounded to bf16 once for all. */
    static void matmulAll(Matrix[] ms, float[] x, int tokens, float[][] outs) {
        int cols = ms[0].cols();
        MemorySegment xb = INPUT.get(2L * tokens * cols);
        BFloat16.encode(x, 0, tokens * cols, xb, 0);
        for (int i = 0; i < ms.length; i++) product(ms[i], xb, tokens, outs[i]);
    }

    private static void product(Matrix m, MemorySegment xb, int tokens, float[] out) {
        int rows = m.rows(), cols = m.cols();
        int parts = Math.min(ComputePool.get().threads(), (rows + 7) / 8);
        ComputePool.get().parallelFor(parts, p -> {
            int from = (int) ((long) rows * p / parts), to = (int) ((long) rows * (p + 1) / parts);
            MemorySegment y = OUTPUT.get(4L * tokens * Math.min(CALL_ROWS, to - from));
            for (int r = from; r < to; r += CALL_ROWS) {
                int n = Math.min(to, r + CALL_ROWS) - r;
                Dnnl.matmul(false, true, tokens, n, cols, DType.BF16, xb, cols, DType.BF16, weightRows(m, r, n), cols,
                        false, y, n);
                for (int t = 0; t < tokens; t++) MemorySegment.copy(y, F32, 4L * t * n, out, t * rows + r, n);
            }
        });
    }

    /** W[r .. r+n) as bf16 [n, cols]: the mapping itself for bf16 weights, else decoded and rounded. */
    private static MemorySegment weightRows(Matrix m, int r, int n) {
        int cols = m.cols();
        if (m.dtype() == DType.BF16) return m.data().asSlice(2L * r * cols, 2L * n * cols);
        MemorySegment w = WEIGHTS.get(2L * n * cols);
        float[] row = Matrix.scratch(cols);
        for (int i = 0; i < n; i++) {
            m.readRow(r + i, row, 0);
            BFloat16.encode(row, 0, cols, w, 2L * i * cols);
        }
        return w;
    }

    /**
     * {@code dx (+)= dy . W}: threads take blocks of W's columns and run down W in slabs of rows, each slab of dy
     * rounded to bf16 by the thread that uses it (a 1/128 overhead that spares a copy of all of dy), oneDNN adding
     * each slab's product to the last.
     */
    static void matmulTransposed(Matrix m, float[] dy, int tokens, float[] dx, boolean accumulate) {
        int rows = m.rows(), cols = m.cols();
        int blocks = (cols + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        ComputePool.get().parallelFor(blocks, b -> {
            int from = b * COLUMN_BLOCK, n = Math.min(cols, from + COLUMN_BLOCK) - from;
            MemorySegment y = OUTPUT.get(4L * tokens * n);
            for (int r0 = 0; r0 < rows; r0 += CALL_ROWS) {
                int k = Math.min(rows, r0 + CALL_ROWS) - r0;
                MemorySegment slab = SLAB.get(2L * tokens * k);
                for (int t = 0; t < tokens; t++) BFloat16.encode(dy, t * rows + r0, k, slab, 2L * t * k);
                MemorySegment w;
                int ldw;
                if (m.dtype() == DType.BF16) {
                    w = m.data().asSlice(2L * ((long) r0 * cols + from));
                    ldw = cols;
                } else {
                    w = WEIGHTS.get(2L * k * n);
                    float[] buf = Matrix.scratch(n);
                    for (int r = 0; r < k; r++) {
                        m.readSlice(r0 + r, from, n, buf, 0);
                        BFloat16.encode(buf, 0, n, w, 2L * r * n);
                    }
                    ldw = n;
                }
                Dnnl.matmul(false, false, tokens, n, k, DType.BF16, slab, k, DType.BF16, w, ldw, r0 > 0, y, n);
            }
            for (int t = 0; t < tokens; t++) {
                int at = t * cols + from;
                if (accumulate) {
                    for (int i = 0; i < n; i++) dx[at + i] += y.getAtIndex(F32, (long) t * n + i);
                } else {
                    MemorySegment.copy(y, F32, 4L * t * n, dx, at, n);
                }
            }
        });
    }
}
