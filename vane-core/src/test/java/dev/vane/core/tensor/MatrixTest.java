package dev.vane.core.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MatrixTest {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Raw little-endian weights of a [rows, cols] matrix and their values decoded independently of Matrix. */
    private record Weights(MemorySegment segment, double[] values) {
    }

    /** Random weights in [-1, 1) stored as {@code dtype}; native memory so the parallel kernel can read it. */
    private static Weights random(DType dtype, int rows, int cols, long seed) {
        Random random = new Random(seed);
        int n = rows * cols;
        MemorySegment seg = Arena.ofAuto().allocate((long) n * dtype.byteSize());
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            float v = random.nextFloat() * 2 - 1;
            switch (dtype) {
                case F32 -> {
                    seg.setAtIndex(F32_LE, i, v);
                    values[i] = v;
                }
                case BF16 -> {
                    short bits = (short) (Float.floatToRawIntBits(v) >>> 16);
                    seg.setAtIndex(I16_LE, i, bits);
                    values[i] = Float.intBitsToFloat((bits & 0xFFFF) << 16);
                }
                case F16 -> {
                    short bits = Float.floatToFloat16(v);
                    seg.setAtIndex(I16_LE, i, bits);
                    values[i] = Float.float16ToFloat(bits);
                }
                default -> throw new AssertionError(dtype);
            }
        }
        return new Weights(seg, values);
    }

    @ParameterizedTest
    @CsvSource({"F32, 1", "F32, 5", "BF16, 1", "BF16, 5", "F16, 1", "F16, 5"})
    void matmulMatchesNaiveDoubleLoop(DType dtype, int tokens) {
        int rows = 37, cols = 70;
        Weights w = random(dtype, rows, cols, 42 + tokens);
        Matrix m = new Matrix(dtype, w.segment(), rows, cols);
        Random random = new Random(7);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = random.nextFloat() * 4 - 2;
        float[] out = new float[tokens * rows];
        m.matmul(x, tokens, out);

        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0, magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    double p = w.values()[r * cols + c] * x[t * cols + c];
                    sum += p;
                    magnitude += Math.abs(p);
                }
                assertThat(Math.abs(out[t * rows + r] - sum))
                        .as("%s token %d row %d: %s vs %s", dtype, t, r, out[t * rows + r], sum)
                        .isLessThanOrEqualTo(1e-4 * Math.max(Math.abs(sum), magnitude / 10));
            }
        }
    }

    @Test
    void matmulOnlyWritesTheTokensAskedFor() {
        int rows = 37, cols = 70;
        Matrix m = new Matrix(DType.F32, random(DType.F32, rows, cols, 1).segment(), rows, cols);
        float[] x = new float[5 * cols];
        java.util.Arrays.fill(x, 1f);
        float[] out = new float[5 * rows];
        java.util.Arrays.fill(out, Float.NaN);
        m.matmul(x, 2, out);
        for (int i = 0; i < 2 * rows; i++) assertThat(out[i]).isNotNaN();
        for (int i = 2 * rows; i < out.length; i++) assertThat(out[i]).isNaN();
    }

    @Test
    void readRowBf16IsTheUpperHalfOfAFloat() {
        int rows = 37, cols = 70;
        Random random = new Random(3);
        MemorySegment seg = Arena.ofAuto().allocate(2L * rows * cols);
        short[] bits = new short[rows * cols];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (short) random.nextInt(1 << 16);
            seg.setAtIndex(I16_LE, i, bits[i]);
        }
        Matrix m = new Matrix(DType.BF16, seg, rows, cols);
        float[] dst = new float[cols + 3];
        for (int r = 0; r < rows; r++) {
            m.readRow(r, dst, 3);
            for (int c = 0; c < cols; c++) {
                assertBitsEqual(dst[3 + c], Float.intBitsToFloat(bits[r * cols + c] << 16), r, c);
            }
        }
    }

    @Test
    void readRowBf16EveryBitPattern() {
        int rows = 512, cols = 128;   // 65536 values: every bf16, on the vectorised path
        MemorySegment seg = Arena.ofAuto().allocate(2L * rows * cols);
        for (int i = 0; i < rows * cols; i++) seg.setAtIndex(I16_LE, i, (short) i);
        Matrix m = new Matrix(DType.BF16, seg, rows, cols);
        float[] dst = new float[cols];
        for (int r = 0; r < rows; r++) {
            m.readRow(r, dst);
            for (int c = 0; c < cols; c++) {
                short b = (short) (r * cols + c);
                assertBitsEqual(dst[c], Float.intBitsToFloat(b << 16), r, c);
            }
        }
    }

    @Test
    void readRowF16AndF32AreExact() {
        int rows = 5, cols = 70;
        Weights f16 = random(DType.F16, rows, cols, 11);
        Weights f32 = random(DType.F32, rows, cols, 12);
        Matrix m16 = new Matrix(DType.F16, f16.segment(), rows, cols);
        Matrix m32 = new Matrix(DType.F32, f32.segment(), rows, cols);
        float[] dst = new float[cols];
        for (int r = 0; r < rows; r++) {
            m16.readRow(r, dst);
            for (int c = 0; c < cols; c++) assertThat((double) dst[c]).isEqualTo(f16.values()[r * cols + c]);
            m32.readRow(r, dst);
            for (int c = 0; c < cols; c++) assertThat((double) dst[c]).isEqualTo(f32.values()[r * cols + c]);
        }
    }

    /**
     * The same product, computed in a fresh JVM before and after the JIT compiles {@code Matrix.dot}, must be
     * bit-identical. {@code FloatVector.reduceLanes(ADD)} would not guarantee it: it sums the lanes in an order the
     * Vector API leaves unspecified, and the interpreted fallback and the C2 intrinsic differ, so the kernel sums
     * the lanes itself in a fixed order.
     */
    @Test
    void matmulIsReproducibleAcrossJitWarmUp() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules=jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), MatmulReproducibilityProbe.class.getName())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
    }

    private static void assertBitsEqual(float actual, float expected, int r, int c) {
        if (Float.isNaN(expected)) {
            assertThat(actual).as("row %d col %d", r, c).isNaN();
        } else {
            assertThat(Float.floatToRawIntBits(actual)).as("row %d col %d", r, c)
                    .isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I32", "F64", "I8", "BOOL"})
    void rejectsNonEngineDtypes(DType dtype) {
        MemorySegment seg = Arena.ofAuto().allocate((long) 4 * 4 * dtype.byteSize());
        assertThatThrownBy(() -> new Matrix(dtype, seg, 4, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(dtype.name());
    }

    @Test
    void rejectsSegmentOfWrongSize() {
        MemorySegment seg = Arena.ofAuto().allocate(4L * 4 * 2 + 2);
        assertThatThrownBy(() -> new Matrix(DType.BF16, seg, 4, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[4, 4]");
    }

    @Test
    void byteSizeAndShape() {
        Matrix m = new Matrix(DType.F16, Arena.ofAuto().allocate(37L * 70 * 2), 37, 70);
        assertThat(m.rows()).isEqualTo(37);
        assertThat(m.cols()).isEqualTo(70);
        assertThat(m.byteSize()).isEqualTo(37L * 70 * 2);
        assertThat(m.dtype()).isEqualTo(DType.F16);
    }
}
