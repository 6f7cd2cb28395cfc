package dev.vane.core.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix [rows, cols] kept in its on-disk dtype (F32, BF16 or F16) over a memory-mapped segment.
 * Rows are output features, columns input features - the layout of a PyTorch {@code nn.Linear} weight.
 *
 * <pre>{@code
 * Matrix w = new Matrix(DType.BF16, segment, 256, 64);
 * float[] y = new float[tokens * 256];
 * w.matmul(x, tokens, y);          // y[t] = W . x[t] for every token t
 * }</pre>
 *
 * <p>Kernels chosen by the number of tokens:
 * <ul>
 *   <li>few tokens (decode): memory-bound, so weights are read once, straight from the mapped bytes (bf16
 *       widened in registers), four rows at a time for independent accumulators;</li>
 *   <li>many tokens (prefill, extraction, training): compute-bound, so a block of rows is decoded once into a
 *       float buffer and multiplied by OpenBLAS's sgemm ({@link Blas}) or, where that is not loaded, by a
 *       register-blocked 4 rows x 3 tokens micro-kernel in Java.</li>
 * </ul>
 * Every output is summed in an order fixed by the shapes, so results do not depend on threads or JIT state.
 *
 * <p>Under {@link Compute#BF16} the many-token products multiply bf16 activations by bf16 weights with float32
 * sums: through oneDNN ({@link Dnnl}) where the CPU has bf16 units, else by the float32 kernels on the same
 * rounded operands (products of two bf16 values are exact in float32, so only the order of the sums differs).
 */
public final class Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** As many bf16 lanes as float lanes, so one load widens into one float vector. */
    private static final VectorSpecies<Short> BF16_LANES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> INT_LANES = VectorSpecies.of(int.class, F.vectorShape());
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** From this many tokens on, decoding rows once and reusing them beats reading weights per token. */
    static final int GEMM_MIN_TOKENS = 4;
    /** Rows decoded together by the GEMM kernel: 64 x 2048 floats = 512 KB, well inside one core's L2. */
    private static final int GEMM_ROW_BLOCK = 64;
    /** Rows per unit of parallel work in the decode kernel. */
    private static final int GEMV_ROW_BLOCK = 16;
    /** Columns of W per thread block in the transposed product. */
    private static final int BLAS_ROW_BLOCK = 128;
    /**
     * Most weight rows per OpenBLAS call: each call packs the whole input again, so calls are as large as the
     * decoded-weight buffer allows (1024 x 2048 floats = 8 MB).
     */
    private static final int BLAS_CALL_ROWS = 1024;
    /** Rows of W decoded per OpenBLAS call in the transposed product (bounds the buffer for the vocabulary). */
    private static final int BLAS_REDUCE_BLOCK = 1024;

    private final DType dtype;
    private final MemorySegment data;
    private final int rows;
    private final int cols;

    public Matrix(DType dtype, MemorySegment data, int rows, int cols) {
        if (!dtype.isEngineFloat()) {
            throw new IllegalArgumentException("weights must be F32, BF16 or F16, got " + dtype);
        }
        if (data.byteSize() != (long) rows * cols * dtype.byteSize()) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes for [" + rows + ", "
                    + cols + "] " + dtype);
        }
        this.dtype = dtype;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    public DType dtype() {
        return dtype;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes of weights this matrix reads per product. */
    public long byteSize() {
        return data.byteSize();
    }

    /**
     * {@code out[t, r] = sum_c x[t, c] * W[r, c]} for {@code t < tokens}: x is [tokens, cols], out is
     * [tokens, rows]. Work is split over rows across the {@link ComputePool}.
     */
    public void matmul(float[] x, int tokens, float[] out) {
        matmul(x, tokens, out, Compute.F32);
    }

    /** {@link #matmul(float[], int, float[])} in the given precision (bf16 only from 32 tokens on). */
    public void matmul(float[] x, int tokens, float[] out, Compute compute) {
        matmulAll(new Matrix[]{this}, x, tokens, new float[][]{out}, compute);
    }

    /**
     * Several products of the same input in one parallel region ({@code outs[i] = x . ms[i]^T}): q, k and v,
     * or gate and up, are one hand-off to the pool instead of three or two. All matrices need {@code x}'s
     * column count.
     */
    public static void matmulAll(Matrix[] ms, float[] x, int tokens, float[][] outs) {
        matmulAll(ms, x, tokens, outs, Compute.F32);
    }

    /**
     * {@link #matmulAll(Matrix[], float[], int, float[][])} in the given precision: {@link Compute#BF16} applies
     * from 32 tokens on (below, products are memory-bound and stay float32).
     */
    public static void matmulAll(Matrix[] ms, float[] x, int tokens, float[][] outs, Compute compute) {
        for (Matrix m : ms) {
            if (m.cols != ms[0].cols) throw new IllegalArgumentException("matrices differ in columns");
        }
        boolean bf16 = compute == Compute.BF16 && tokens >= Blas.MIN_ROWS;
        if (bf16 && Dnnl.usedForBf16()) {
            Bf16Products.matmulAll(ms, x, tokens, outs);
            return;
        }
        if (bf16) x = roundedCopy(x, tokens * ms[0].cols);      // emulated: the same operands, float32 kernels
        if (Blas.useForRows(tokens)) {
            for (int i = 0; i < ms.length; i++) ms[i].blasProduct(x, tokens, outs[i], bf16);
            return;
        }
        boolean gemm = tokens >= GEMM_MIN_TOKENS;
        int block = gemm ? GEMM_ROW_BLOCK : GEMV_ROW_BLOCK;
        int[] firstBlock = new int[ms.length + 1];
        for (int i = 0; i < ms.length; i++) firstBlock[i + 1] = firstBlock[i] + (ms[i].rows + block - 1) / block;
        float[] input = x;
        ComputePool.get().parallelFor(firstBlock[ms.length], b -> {
            int i = 0;
            while (b >= firstBlock[i + 1]) i++;
            Matrix m = ms[i];
            int from = (b - firstBlock[i]) * block, to = Math.min(m.rows, from + block);
            if (gemm) m.gemmBlock(from, to, input, tokens, outs[i], bf16);
            else m.gemvBlock(from, to, input, tokens, outs[i]);
        });
    }

    /**
     * The backward of {@link #matmul}: {@code dx[t, c] (+)= sum_r dy[t, r] * W[r, c]} for {@code t < tokens}
     * (dy is [tokens, rows], dx is [tokens, cols]). Work is split over blocks of columns; each block of W is
     * decoded once, transposed, into a float buffer and multiplied by the same micro-kernel as the forward.
     */
    public void matmulTransposed(float[] dy, int tokens, float[] dx, boolean accumulate) {
        matmulTransposed(dy, tokens, dx, accumulate, Compute.F32);
    }

    /** {@link #matmulTransposed(float[], int, float[], boolean)} in the given precision (bf16 from 32 tokens on). */
    public void matmulTransposed(float[] dy, int tokens, float[] dx, boolean accumulate, Compute compute) {
        boolean bf16 = compute == Compute.BF16 && tokens >= Blas.MIN_ROWS;
        if (bf16 && Dnnl.usedForBf16()) {
            Bf16Products.matmulTransposed(this, dy, tokens, dx, accumulate);
            return;
        }
        float[] grad = bf16 ? roundedCopy(dy, tokens * rows) : dy;
        if (Blas.useForRows(tokens)) {
            blasTransposed(grad, tokens, dx, accumulate, bf16);
            return;
        }
        int block = GEMM_ROW_BLOCK;
        int blocks = (cols + block - 1) / block;
        ComputePool.get().parallelFor(blocks, b -> {
            int from = b * block, n = Math.min(cols, from + block) - from;
            float[] wt = scratch(n * rows + n);
            int sliceAt = n * rows;                 // row r's slice is decoded past the transposed block
            for (int r = 0; r < rows; r++) {
                readSlice(r, from, n, wt, sliceAt, bf16);
                for (int i = 0; i < n; i++) wt[i * rows + r] = wt[sliceAt + i];
            }
            FloatGemm.block(wt, 0, n, grad, 0, tokens, rows, dx, from, 1, cols, accumulate);
        });
    }

    // ---- decode: weights read once, straight from the mapping ------------------------------------------

    private void gemvBlock(int from, int to, float[] x, int tokens, float[] out) {
        if (dtype == DType.F16) {                 // no vector f16 widening: decode rows, then dot
            float[] w = scratch(cols);
            for (int r = from; r < to; r++) {
                readRow(r, w, 0);
                for (int t = 0; t < tokens; t++) out[t * rows + r] = dot(w, 0, x, t * cols, cols);
            }
            return;
        }
        int r = from;
        for (; r + 4 <= to; r += 4) {
            for (int t = 0; t < tokens; t++) dot4(r, x, t * cols, out, t * rows);
        }
        for (; r < to; r++) {
            for (int t = 0; t < tokens; t++) out[t * rows + r] = dotRow(r, x, t * cols);
        }
    }

    /** Rows r..r+3 against one token: four accumulators keep the FMA units busy while weights stream in. */
    private void dot4(int r, float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long rowBytes = (long) cols * dtype.byteSize();
        long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        int c = 0;
        int bound = F.loopBound(cols);
        if (dtype == DType.BF16) {
            for (; c < bound; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                a0 = bf16(b0 + 2L * c).fma(xv, a0);
                a1 = bf16(b1 + 2L * c).fma(xv, a1);
                a2 = bf16(b2 + 2L * c).fma(xv, a2);
                a3 = bf16(b3 + 2L * c).fma(xv, a3);
            }
        } else {
            for (; c < bound; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                a0 = f32(b0 + 4L * c).fma(xv, a0);
                a1 = f32(b1 + 4L * c).fma(xv, a1);
                a2 = f32(b2 + 4L * c).fma(xv, a2);
                a3 = f32(b3 + 4L * c).fma(xv, a3);
            }
        }
        float s0 = sum(a0), s1 = sum(a1), s2 = sum(a2), s3 = sum(a3);
        for (; c < cols; c++) {
            float xc = x[xOff + c];
            s0 += weight(r, c) * xc;
            s1 += weight(r + 1, c) * xc;
            s2 += weight(r + 2, c) * xc;
            s3 += weight(r + 3, c) * xc;
        }
        out[outOff + r] = s0;
        out[outOff + r + 1] = s1;
        out[outOff + r + 2] = s2;
        out[outOff + r + 3] = s3;
    }

    private float dotRow(int r, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(F);
        long base = (long) r * cols * dtype.byteSize();
        int c = 0;
        int bound = F.loopBound(cols);
        for (; c < bound; c += L) {
            FloatVector w = dtype == DType.BF16 ? bf16(base + 2L * c) : f32(base + 4L * c);
            acc = w.fma(FloatVector.fromArray(F, x, xOff + c), acc);
        }
        float s = sum(acc);
        for (; c < cols; c++) s += weight(r, c) * x[xOff + c];
        return s;
    }

    private FloatVector bf16(long byteOffset) {
        // bf16 is the upper half of a float32: widen to int, shift left 16, reinterpret.
        ShortVector s = ShortVector.fromMemorySegment(BF16_LANES, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) s.convertShape(VectorOperators.S2I, INT_LANES, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private FloatVector f32(long byteOffset) {
        return FloatVector.fromMemorySegment(F, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
    }

    private float weight(int r, int c) {
        long i = (long) r * cols + c;
        return switch (dtype) {
            case F32 -> data.get(F32_LE, 4 * i);
            case BF16 -> Float.intBitsToFloat(data.get(I16_LE, 2 * i) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, 2 * i));
            default -> throw new IllegalStateException(dtype.toString());
        };
    }

    // ---- prefill: rows decoded once per block, register-blocked micro-kernel ---------------------------

    private void gemmBlock(int from, int to, float[] x, int tokens, float[] out, boolean bf16) {
        int n = to - from;
        float[] w = scratch(n * cols);
        for (int i = 0; i < n; i++) readSlice(from + i, 0, cols, w, i * cols, bf16);
        // 3 tokens' inputs stay in L1 while all decoded rows pass by (FloatGemm's 4 x 3 micro-kernel)
        FloatGemm.block(w, 0, n, x, 0, tokens, cols, out, from, 1, rows, false);
    }

    /**
     * out = x W^T through OpenBLAS: one matrix at a time, its rows split evenly over the threads (a thread's
     * share in calls of at most {@link #BLAS_CALL_ROWS} rows), so every thread has the same work and each call
     * is large enough to amortise OpenBLAS's packing of x.
     */
    private void blasProduct(float[] x, int tokens, float[] out, boolean bf16) {
        int parts = Math.min(ComputePool.get().threads(), (rows + 7) / 8);
        ComputePool.get().parallelFor(parts, p -> {
            int from = (int) ((long) rows * p / parts), to = (int) ((long) rows * (p + 1) / parts);
            for (int r = from; r < to; r += BLAS_CALL_ROWS) blasBlock(r, Math.min(to, r + BLAS_CALL_ROWS), x, tokens, out, bf16);
        });
    }

    private void blasBlock(int from, int to, float[] x, int tokens, float[] out, boolean bf16) {
        int n = to - from;
        MemorySegment w;
        if (dtype == DType.F32 && !bf16) {
            w = data.asSlice((long) from * cols * 4, (long) n * cols * 4);   // the mapping itself, no copy
        } else {
            float[] buf = scratch(n * cols);
            for (int i = 0; i < n; i++) readSlice(from + i, 0, cols, buf, i * cols, bf16);
            w = MemorySegment.ofArray(buf);
        }
        Blas.sgemm(false, true, tokens, n, cols, MemorySegment.ofArray(x), cols, w, cols,
                0f, MemorySegment.ofArray(out).asSlice(4L * from), rows);
    }

    /**
     * dx = dy . W through OpenBLAS: threads take blocks of columns; each block runs down W in slabs of rows, each
     * slab decoded into a buffer and added in, so the buffer stays small even for a vocabulary-sized W.
     */
    private void blasTransposed(float[] dy, int tokens, float[] dx, boolean accumulate, boolean bf16) {
        int block = BLAS_ROW_BLOCK;
        int blocks = (cols + block - 1) / block;
        MemorySegment dySeg = MemorySegment.ofArray(dy);
        ComputePool.get().parallelFor(blocks, b -> {
            int from = b * block, n = Math.min(cols, from + block) - from;
            MemorySegment dxSeg = MemorySegment.ofArray(dx).asSlice(4L * from);
            float[] buf = dtype == DType.F32 && !bf16 ? null : scratch(BLAS_REDUCE_BLOCK * n);
            for (int r0 = 0; r0 < rows; r0 += BLAS_REDUCE_BLOCK) {
                int nr = Math.min(rows, r0 + BLAS_REDUCE_BLOCK) - r0;
                MemorySegment w;
                int ldw;
                if (buf == null) {
                    w = data.asSlice(((long) r0 * cols + from) * 4);
                    ldw = cols;
                } else {
                    for (int r = 0; r < nr; r++) readSlice(r0 + r, from, n, buf, r * n, bf16);
                    w = MemorySegment.ofArray(buf);
                    ldw = n;
                }
                float beta = accumulate || r0 > 0 ? 1f : 0f;
                Blas.sgemm(false, false, tokens, n, nr, dySeg.asSlice(4L * r0), rows, w, ldw, beta, dxSeg, cols);
            }
        });
    }

    // ---- shared pieces ---------------------------------------------------------------------------------

    /** Per-thread buffer for decoded rows, grown as needed: the kernels allocate nothing per call. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    static float[] scratch(int n) {
        float[] s = SCRATCH.get();
        if (s.length < n) {
            s = new float[n];
            SCRATCH.set(s);
        }
        return s;
    }

    /** The mapped bytes (for native products that read weights in place). */
    MemorySegment data() {
        return data;
    }

    /**
     * The calling thread's buffer for a rounded product input: its own, not {@link #SCRATCH}, because pool workers
     * (the caller among them) use theirs inside the product while every one of them reads this.
     */
    private static final ThreadLocal<float[]> ROUNDED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * {@code a[0..n)} rounded to bf16 values (the emulated bf16 products' input), in the calling thread's buffer:
     * reused from one product to the next instead of a new array per product. Valid until this thread's next call.
     */
    private static float[] roundedCopy(float[] a, int n) {
        float[] r = ROUNDED.get();
        if (r.length < n) {
            r = new float[n];
            ROUNDED.set(r);
        }
        System.arraycopy(a, 0, r, 0, n);
        BFloat16.round(r, 0, n);
        return r;
    }

    /** {@link #readSlice(int, int, int, float[], int)}, the values rounded to bf16 when {@code bf16}. */
    private void readSlice(int r, int from, int n, float[] dst, int off, boolean bf16) {
        readSlice(r, from, n, dst, off);
        if (bf16 && dtype != DType.BF16) BFloat16.round(dst, off, n);
    }

    /** Decodes row {@code r} into {@code dst[0..cols)} as float32. */
    public void readRow(int r, float[] dst) {
        readRow(r, dst, 0);
    }

    /** Decodes row {@code r} into {@code dst[off..off+cols)} as float32 (embedding lookup). */
    public void readRow(int r, float[] dst, int off) {
        readSlice(r, 0, cols, dst, off);
    }

    /** Decodes {@code W[r, from..from+n)} into {@code dst[off..off+n)} as float32. */
    public void readSlice(int r, int from, int n, float[] dst, int off) {
        long base = ((long) r * cols + from) * dtype.byteSize();
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, dst, off, n);
            case BF16 -> {
                int c = 0;
                for (int bound = F.loopBound(n); c < bound; c += L) bf16(base + 2L * c).intoArray(dst, off + c);
                for (; c < n; c++) dst[off + c] = Float.intBitsToFloat(data.get(I16_LE, base + 2L * c) << 16);
            }
            case F16 -> {
                for (int c = 0; c < n; c++) dst[off + c] = Float.float16ToFloat(data.get(I16_LE, base + 2L * c));
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    private static float dot(float[] w, int wOff, float[] x, int xOff, int n) {
        return VectorMath.dot(w, wOff, x, xOff, n);
    }

    private static float sum(FloatVector v) {
        return VectorMath.sum(v);
    }
}
