package dev.vane.core.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The OpenBLAS path and the pure-Java kernels compute the same products (each against a double-precision loop),
 * for every shape the forward and backward passes use, and the fallback holds where OpenBLAS cannot load.
 */
class KernelAgreementTest {

    @AfterEach
    void environmentDefault() {
        Blas.choose(null);
    }

    @Test
    void openBlasLoadsOnLinuxX86() {
        // CI and development run on linux-x86_64: there the bundled library must load, not fall back quietly.
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name").toLowerCase().contains("linux") && arch.equals("amd64")) {
            Blas.choose(Blas.Use.LARGE);
            assertThat(Blas.enabled()).as(Blas.status()).isTrue();
            assertThat(Blas.status()).startsWith("OpenBLAS 0.3.");
        }
    }

    @Test
    void withoutTheJarTheReasonIsSaid(@TempDir Path cache) {
        ClassLoader empty = new URLClassLoader(new URL[0], null);
        assertThat(Blas.loadFailure(empty, cache)).contains("org.bytedeco:openblas", "not on the class path");
    }

    @Test
    void choosingJavaIsReported() {
        Blas.choose(Blas.Use.NEVER);
        assertThat(Blas.enabled()).isFalse();
        assertThat(Blas.status()).startsWith("Java kernels (");
    }

    private static void assertClose(float[] actual, double[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("%s [%d]: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(1e-4 * Math.max(1, Math.abs(expected[i])));
        }
    }

    @ParameterizedTest(name = "{0} weights, {1} tokens, {2}")
    @CsvSource({"F32, 40, ALWAYS", "BF16, 40, ALWAYS", "F16, 40, ALWAYS", "BF16, 3, ALWAYS", "BF16, 40, NEVER",
            "F32, 40, NEVER", "BF16, 300, LARGE"})
    void forwardProduct(DType dtype, int tokens, Blas.Use use) {
        int rows = 300, cols = 72;                  // 300 rows: OpenBLAS blocks of 128 and a tail of 44
        float[] w = StoredWeights.random(rows * cols, 1);
        Matrix m = new Matrix(dtype, StoredWeights.store(dtype, w), rows, cols);
        float[] x = StoredWeights.random(tokens * cols + 5, 2);   // a work buffer longer than the tokens, as the engine's are
        float[] out = new float[tokens * rows];
        Blas.choose(use);
        m.matmul(x, tokens, out);
        double[] want = new double[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += (double) x[t * cols + c] * w[r * cols + c];
                want[t * rows + r] = s;
            }
        }
        assertClose(out, want, dtype + " " + use);
    }

    @ParameterizedTest(name = "{0} weights, accumulate {1}, {2}")
    @CsvSource({"BF16, false, ALWAYS", "BF16, true, ALWAYS", "F32, true, ALWAYS", "F16, false, ALWAYS",
            "BF16, true, NEVER", "F32, false, NEVER"})
    void transposedProduct(DType dtype, boolean accumulate, Blas.Use use) {
        int rows = 2100, cols = 140, tokens = 33;   // rows past one 1024-row slab; columns past one 128 block
        float[] w = StoredWeights.random(rows * cols, 3);
        Matrix m = new Matrix(dtype, StoredWeights.store(dtype, w), rows, cols);
        float[] dy = StoredWeights.random(tokens * rows, 4);
        float[] dx = StoredWeights.random(tokens * cols, 5);
        double[] want = new double[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                double s = accumulate ? dx[t * cols + c] : 0;
                for (int r = 0; r < rows; r++) s += (double) dy[t * rows + r] * w[r * cols + c];
                want[t * cols + c] = s;
            }
        }
        Blas.choose(use);
        m.matmulTransposed(dy, tokens, dx, accumulate);
        for (int i = 0; i < want.length; i++) {
            assertThat(Math.abs(dx[i] - want[i])).as("%s [%d]", use, i).isLessThanOrEqualTo(1e-3 * Math.max(1, Math.abs(want[i])));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Blas.Use.class, names = {"ALWAYS", "NEVER"})
    void floatProducts(Blas.Use use) {
        int m = 37, n = 29, k = 51;
        Blas.choose(use);
        float[] a = StoredWeights.random(m * k, 6), b = StoredWeights.random(n * k, 7), c = StoredWeights.random(m * n, 8);
        float[] before = c.clone();
        FloatGemm.nt(a, b, m, n, k, c, true);                // c += a b^T
        double[] want = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = before[i * n + j];
                for (int p = 0; p < k; p++) s += (double) a[i * k + p] * b[j * k + p];
                want[i * n + j] = s;
            }
        }
        assertClose(c, want, "nt " + use);

        float[] bkn = FloatGemm.transpose(b, n, k);           // [k, n]
        float[] c2 = new float[m * n];
        FloatGemm.nn(a, bkn, m, n, k, c2, false);
        for (int i = 0; i < want.length; i++) want[i] -= before[i];
        assertClose(c2, want, "nn " + use);

        float[] akm = FloatGemm.transpose(a, m, k);           // [k, m]
        float[] c3 = new float[m * n];
        FloatGemm.tn(akm, bkn, k, m, n, c3, false);
        assertClose(c3, want, "tn " + use);
    }

    @Test
    void extentsAreCheckedBeforeTheNativeCall() {
        Blas.choose(Blas.Use.ALWAYS);
        float[] a = new float[6], b = new float[6], c = new float[3];   // c needs 4 for [2, 2]
        assertThatThrownBy(() -> Blas.sgemm(false, true, 2, 2, 3, MemorySegment.ofArray(a), 3,
                MemorySegment.ofArray(b), 3, 0f, MemorySegment.ofArray(c), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c: [2, 2]");
        assertThatThrownBy(() -> Blas.sgemm(false, false, 2, 2, 3, MemorySegment.ofArray(a), 2,
                MemorySegment.ofArray(b), 2, 0f, MemorySegment.ofArray(new float[4]), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leading dimension 2");
    }
}
