package dev.vane.core.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Compute#BF16} products of a {@link Matrix} - through oneDNN, and emulated in Java over OpenBLAS or the
 * Java kernels - against a double-precision loop over the bf16-rounded operands. Products of two bf16 values
 * are exact in float32, so the paths differ from the reference only by float32 summation: each output must lie
 * within k 2^-24 of the sum of its terms' magnitudes (k terms, the textbook bound for a float sum).
 */
class Bf16ProductTest {

    @AfterEach
    void environmentDefault() {
        Blas.choose(null);
        Dnnl.choose(null);
    }

    /** oneDNN, or the emulation over OpenBLAS (ALWAYS) or over the Java kernels (NEVER). */
    private static void choose(String path) {
        Dnnl.choose(path.equals("dnnl") ? Dnnl.Use.ALWAYS : Dnnl.Use.NEVER);
        Blas.choose(path.equals("java") ? Blas.Use.NEVER : Blas.Use.ALWAYS);
        assertThat(Dnnl.usedForBf16()).as(Dnnl.status()).isEqualTo(path.equals("dnnl"));
    }

    @ParameterizedTest(name = "{0} weights, {1}")
    @CsvSource({"BF16, dnnl", "F32, dnnl", "F16, dnnl", "BF16, blas", "F32, blas", "BF16, java", "F16, java"})
    void forwardProduct(DType dtype, String path) {
        int rows = 2100, cols = 72, tokens = 40;    // a thread's share of 1050 rows: oneDNN calls of 1024 and 26
        float[] w = StoredWeights.random(rows * cols, 1);
        Matrix m = new Matrix(dtype, StoredWeights.store(dtype, w), rows, cols);
        float[] x = StoredWeights.random(tokens * cols + 5, 2);   // a work buffer longer than the tokens, as the engine's are
        float[] out = new float[tokens * rows];
        choose(path);
        m.matmul(x, tokens, out, Compute.BF16);
        int unlikeF32 = 0;
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0, magnitude = 0, f32 = 0;
                for (int c = 0; c < cols; c++) {
                    double term = (double) BFloat16.round(x[t * cols + c]) * BFloat16.round(w[r * cols + c]);
                    s += term;
                    magnitude += Math.abs(term);
                    f32 += (double) x[t * cols + c] * w[r * cols + c];
                }
                double bound = cols * 0x1p-24 * magnitude;
                float got = out[t * rows + r];
                assertThat(Math.abs(got - s)).as("%s %s out[%d, %d]: %s vs %s", dtype, path, t, r, got, s)
                        .isLessThanOrEqualTo(bound);
                if (Math.abs(got - f32) > bound) unlikeF32++;
            }
        }
        // the operands were rounded: most outputs are outside float32's rounding of the unrounded product
        assertThat(unlikeF32).isGreaterThan(tokens * rows / 2);
    }

    @ParameterizedTest(name = "{0} weights, accumulate {1}, {2}")
    @CsvSource({"BF16, false, dnnl", "BF16, true, dnnl", "F32, true, dnnl", "F16, false, dnnl",
            "BF16, true, blas", "F32, false, java"})
    void transposedProduct(DType dtype, boolean accumulate, String path) {
        int rows = 2100, cols = 140, tokens = 33;   // rows past two 1024-row slabs; columns past one 128 block
        float[] w = StoredWeights.random(rows * cols, 3);
        Matrix m = new Matrix(dtype, StoredWeights.store(dtype, w), rows, cols);
        float[] dy = StoredWeights.random(tokens * rows, 4);
        float[] dx = StoredWeights.random(tokens * cols, 5);
        double[] want = new double[tokens * cols], bound = new double[tokens * cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                double s = 0, magnitude = 0;
                for (int r = 0; r < rows; r++) {
                    double term = (double) BFloat16.round(dy[t * rows + r]) * BFloat16.round(w[r * cols + c]);
                    s += term;
                    magnitude += Math.abs(term);
                }
                // the sum is added to dx in float32: one more rounding
                want[t * cols + c] = (accumulate ? dx[t * cols + c] : 0) + s;
                bound[t * cols + c] = (rows + 1) * 0x1p-24 * (magnitude + (accumulate ? Math.abs(dx[t * cols + c]) : 0));
            }
        }
        choose(path);
        m.matmulTransposed(dy, tokens, dx, accumulate, Compute.BF16);
        for (int i = 0; i < want.length; i++) {
            assertThat(Math.abs(dx[i] - want[i])).as("%s %s dx[%d]: %s vs %s", dtype, path, i, dx[i], want[i])
                    .isLessThanOrEqualTo(bound[i]);
        }
    }

    @Test
    void belowThirtyTwoTokensProductsStayFloat32() {
        int rows = 64, cols = 48, tokens = 31;
        Matrix m = new Matrix(DType.BF16, StoredWeights.store(DType.BF16, StoredWeights.random(rows * cols, 6)), rows, cols);
        float[] x = StoredWeights.random(tokens * cols, 7);
        float[] f32 = new float[tokens * rows], bf16 = new float[tokens * rows];
        m.matmul(x, tokens, f32, Compute.F32);
        m.matmul(x, tokens, bf16, Compute.BF16);
        assertThat(bf16).isEqualTo(f32);
        float[] dy = StoredWeights.random(tokens * rows, 8), dxF32 = new float[tokens * cols], dxBf16 = new float[tokens * cols];
        m.matmulTransposed(dy, tokens, dxF32, false, Compute.F32);
        m.matmulTransposed(dy, tokens, dxBf16, false, Compute.BF16);
        assertThat(dxBf16).isEqualTo(dxF32);
    }

    @Test
    void computeIsParsedFromTheCommandLineSpelling() {
        assertThat(Compute.parse("bf16")).isEqualTo(Compute.BF16);
        assertThat(Compute.parse(" F32")).isEqualTo(Compute.F32);
        assertThat(Compute.BF16).hasToString("bf16");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Compute.parse("fp8"))
                .hasMessage("compute must be f32 or bf16, not 'fp8'");
    }

}
