package dev.vane.core.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * oneDNN's products against a double-precision loop over the same operand values, on odd shapes with every
 * layout the engine uses; and the fallback where the library cannot load.
 */
class DnnlTest {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void loadsOnLinuxX86() {
        // CI and development run on linux-x86_64: there the bundled library must load, not fall back quietly.
        if (System.getProperty("os.name").toLowerCase().contains("linux") && System.getProperty("os.arch").equals("amd64")) {
            assertThat(Dnnl.enabled()).as(Dnnl.status()).isTrue();
            assertThat(Dnnl.status()).startsWith("oneDNN 3.8.1 (");
        }
    }

    @Test
    void bf16ProductsGoToOneDnnOnlyWithBf16Units() {
        try {
            Dnnl.choose(Dnnl.Use.WITH_BF16_UNITS);
            assertThat(Dnnl.usedForBf16()).isEqualTo(Dnnl.bf16Units());
            if (!Dnnl.bf16Units()) assertThat(Dnnl.status()).contains("no bf16 units", "emulated");
            Dnnl.choose(Dnnl.Use.ALWAYS);
            assertThat(Dnnl.usedForBf16()).isTrue();
            assertThat(Dnnl.status()).doesNotContain("emulated");
        } finally {
            Dnnl.choose(null);
        }
    }

    @Test
    void withoutTheJarTheReasonIsSaid(@TempDir Path cache) {
        ClassLoader empty = new URLClassLoader(new URL[0], null);
        assertThat(Dnnl.loadFailure(empty, cache)).contains("org.bytedeco:dnnl", "not on the class path");
    }

    @Test
    void turningItOffIsReported() {
        Dnnl.choose(Dnnl.Use.NEVER);
        try {
            assertThat(Dnnl.enabled()).isFalse();
            assertThat(Dnnl.usedForBf16()).isFalse();
            assertThat(Dnnl.status()).startsWith("oneDNN off (");
        } finally {
            Dnnl.choose(null);
        }
    }

    /**
     * Operands are rounded to their type first, so the reference multiplies the values oneDNN sees; bf16 x bf16
     * products are exact in float32, so with either type only the float32 sums differ from the double ones:
     * each output within 1e-6 of the sum of its terms' magnitudes (71 terms of at most 2^-24 relative each).
     */
    @ParameterizedTest(name = "{0} x {1}, transA {2}, transB {3}, accumulate {4}")
    @CsvSource({"F32, F32, false, true, false", "BF16, BF16, false, true, false", "BF16, BF16, false, false, false",
            "BF16, BF16, true, false, false", "F32, F32, true, true, false", "BF16, BF16, false, false, true",
            "F32, F32, false, false, true"})
    void productMatchesReference(DType aType, DType bType, boolean transA, boolean transB, boolean accumulate) {
        int m = 37, n = 53, k = 71;
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2;   // padded rows: strides are honoured
        float[] a = random((transA ? k : m) * lda, 1, aType), b = random((transB ? n : k) * ldb, 2, bType);
        float[] c0 = random(m * ldc, 3, DType.F32);
        MemorySegment as = store(a, aType), bs = store(b, bType), cs = store(c0, DType.F32);
        Dnnl.matmul(transA, transB, m, n, k, aType, as, lda, bType, bs, ldb, accumulate, cs, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c0[i * ldc + j] : 0, magnitude = Math.abs(sum);
                for (int p = 0; p < k; p++) {
                    double term = (double) a[transA ? p * lda + i : i * lda + p] * b[transB ? j * ldb + p : p * ldb + j];
                    sum += term;
                    magnitude += Math.abs(term);
                }
                float got = cs.getAtIndex(F32_LE, (long) i * ldc + j);
                assertThat(Math.abs(got - sum)).as("c[%d, %d]: %s vs %s", i, j, got, sum)
                        .isLessThanOrEqualTo(1e-6 * magnitude + 1e-7);
            }
            for (int j = n; j < ldc; j++) {
                assertThat(cs.getAtIndex(F32_LE, (long) i * ldc + j)).as("padding of row %d", i).isEqualTo(c0[i * ldc + j]);
            }
        }
    }

    @Test
    void anEmptySumIsZeroAndLeavesThePaddingAlone() {
        MemorySegment c = store(new float[]{1, 2, 9, 3, 4, 9}, DType.F32);    // [2, 2] with leading dimension 3
        MemorySegment none = Arena.ofAuto().allocate(4);
        Dnnl.matmul(false, true, 2, 2, 0, DType.F32, none, 1, DType.F32, none, 1, true, c, 3);
        assertThat(c.toArray(ValueLayout.JAVA_FLOAT)).containsExactly(1, 2, 9, 3, 4, 9);
        Dnnl.matmul(false, true, 2, 2, 0, DType.F32, none, 1, DType.F32, none, 1, false, c, 3);
        assertThat(c.toArray(ValueLayout.JAVA_FLOAT)).containsExactly(0, 0, 9, 0, 0, 9);
    }

    @Test
    void operandsAreChecked() {
        MemorySegment small = Arena.ofAuto().allocate(4 * 5);
        MemorySegment six = Arena.ofAuto().allocate(4 * 6);
        assertThatThrownBy(() -> Dnnl.matmul(false, true, 2, 2, 3, DType.F32, small, 3, DType.F32, six, 3, false, six, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a: [2, 3]").hasMessageContaining("20");
        assertThatThrownBy(() -> Dnnl.matmul(false, true, 2, 2, 3, DType.F32, MemorySegment.ofArray(new float[6]), 3,
                DType.F32, six, 3, false, six, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native memory");
        assertThatThrownBy(() -> Dnnl.matmul(false, true, 2, 2, 3, DType.F16, six, 3, DType.F32, six, 3, false, six, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("F16");
    }

    /** Values in [-1, 1) rounded to {@code type}. */
    private static float[] random(int n, long seed, DType type) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextFloat() * 2 - 1;
            if (type == DType.BF16) a[i] = BFloat16.round(a[i]);
        }
        return a;
    }

    private static MemorySegment store(float[] values, DType type) {
        MemorySegment s = Arena.ofAuto().allocate((long) values.length * type.byteSize(), 64);
        for (int i = 0; i < values.length; i++) {
            if (type == DType.BF16) s.setAtIndex(I16_LE, i, BFloat16.fromFloat(values[i]));
            else s.setAtIndex(F32_LE, i, values[i]);
        }
        return s;
    }
}
