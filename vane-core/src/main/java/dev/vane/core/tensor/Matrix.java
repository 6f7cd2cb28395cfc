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
import java.util.stream.IntStream;

/**
 * A weight matrix [rows, cols] kept in its on-disk dtype (F32, BF16 or F16) over a memory-mapped segment.
 * Rows are output features, columns input features - the layout of a PyTorch {@code nn.Linear} weight.
 *
 * <pre>{@code
 * Matrix w = new Matrix(DType.BF16, segment, 256, 64);
 * float[] y = new float[tokens * 256];
 * w.matmul(x, tokens, y);          // y[t] = W . x[t] for every token t
 * }</pre>
 */
public final class Matrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** As many bf16 lanes as float lanes, so one load widens into one float vector. */
    private static final VectorSpecies<Short> BF16_LANES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final VectorSpecies<Integer> INT_LANES = VectorSpecies.of(int.class, F.vectorShape());
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Rows per parallel task: enough work to amortise scheduling, few enough to balance two cores. */
    private static final int ROWS_PER_TASK = 16;

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
     * [tokens, rows]. Work is split over rows across cores; each weight row is decoded once and used for all
     * tokens, so weights are read once per call whatever the batch size.
     */
    public void matmul(float[] x, int tokens, float[] out) {
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        IntStream.range(0, tasks).parallel().forEach(task -> {
            float[] w = new float[cols];
            int end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (int r = task * ROWS_PER_TASK; r < end; r++) {
                readRow(r, w);
                for (int t = 0; t < tokens; t++) {
                    out[t * rows + r] = dot(w, x, t * cols, cols);
                }
            }
        });
    }

    /** Decodes row {@code r} into {@code dst[0..cols)} as float32. */
    public void readRow(int r, float[] dst) {
        readRow(r, dst, 0);
    }

    /** Decodes row {@code r} into {@code dst[off..off+cols)} as float32 (embedding lookup). */
    public void readRow(int r, float[] dst, int off) {
        long base = (long) r * cols * dtype.byteSize();
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, dst, off, cols);
            case BF16 -> readBf16(base, dst, off);
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    dst[off + c] = Float.float16ToFloat(data.get(I16_LE, base + 2L * c));
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    private void readBf16(long base, float[] dst, int off) {
        // bf16 is the upper half of a float32: widen to int, shift left 16, reinterpret.
        int c = 0;
        for (int bound = F.loopBound(cols); c < bound; c += F.length()) {
            ShortVector s = ShortVector.fromMemorySegment(BF16_LANES, data, base + 2L * c, ByteOrder.LITTLE_ENDIAN);
            IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, INT_LANES, 0);
            i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + c);
        }
        for (; c < cols; c++) {
            dst[off + c] = Float.intBitsToFloat(data.get(I16_LE, base + 2L * c) << 16);
        }
    }

    /** Dot product of {@code w[0..n)} with {@code x[off..off+n)}. */
    static float dot(float[] w, float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, off + i), acc);
        }
        // Lanes are summed in a fixed order: reduceLanes(ADD) may change its order when the JIT recompiles,
        // which would make identical calls differ in the last bits.
        float sum = 0;
        for (int lane = 0; lane < F.length(); lane++) sum += acc.lane(lane);
        for (; i < n; i++) {
            sum += w[i] * x[off + i];
        }
        return sum;
    }
}
