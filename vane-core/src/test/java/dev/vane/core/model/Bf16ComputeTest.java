package dev.vane.core.model;

import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.hook.Hooks;
import dev.vane.core.tensor.Blas;
import dev.vane.core.tensor.Compute;
import dev.vane.core.tensor.Dnnl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bundled organism (bf16 weights) in {@link Compute#BF16} against itself in float32: prompts of 40 tokens,
 * so the prefill's products are bf16 ones.
 */
class Bf16ComputeTest {
    static Model f32;
    static Model bf16;
    static int[][] prompts = new int[3][40];

    @BeforeAll
    static void load() {
        f32 = Model.load(Path.of(System.getProperty("vane.home", ".."), "models", "organism-chat"));
        bf16 = f32.withCompute(Compute.BF16);
        Random r = new Random(14);
        for (int[] p : prompts) {
            p[0] = 0;                                       // bos
            for (int i = 1; i < p.length; i++) p[i] = 5 + r.nextInt(2000);
        }
    }

    @AfterAll
    static void close() {
        f32.close();
    }

    @Test
    void theSettingIsAViewOfTheSameWeights() {
        assertThat(f32.compute()).isEqualTo(Compute.F32);
        assertThat(bf16.compute()).isEqualTo(Compute.BF16);
        assertThat(bf16.layer(0).q()).isSameAs(f32.layer(0).q());
        assertThat(bf16.withCompute(Compute.BF16)).isSameAs(bf16);
    }

    @Test
    void modelsLoadWithTheProcessDefault() {
        Compute.setDefault(Compute.BF16);
        try (Model m = Model.load(f32.directory())) {
            assertThat(m.compute()).isEqualTo(Compute.BF16);
        } finally {
            Compute.setDefault(null);
        }
        try (Model m = Model.load(f32.directory())) {
            assertThat(m.compute()).isEqualTo(Compute.F32);
        }
    }

    /**
     * Measured, both ways: max |logit| 23.1, max difference 0.085-0.165 (0.7 %); of the 120 positions one (with
     * the emulation) changes its most likely token, where float32's top two are 0.0018 apart. So: a difference
     * under 2 % of the largest logit, and a changed top token only where float32's top two are within twice it.
     */
    @ParameterizedTest
    @EnumSource(value = Dnnl.Use.class, names = {"ALWAYS", "NEVER"})
    void logitsStayWithinBf16RoundingOfFloat32(Dnnl.Use dnnl) {
        for (int[] p : prompts) {
            float[] a = f32.forward(Batch.of(p), new Hooks()).logits(0).data();
            float[] b = logits(bf16, p, dnnl, Blas.Use.LARGE);
            double maxDiff = maxDiff(a, b), maxLogit = 0;
            for (float v : a) maxLogit = Math.max(maxLogit, Math.abs(v));
            assertThat(maxDiff).as("bf16 products ran (they round)").isGreaterThan(1e-3);
            assertThat(maxDiff).isLessThan(0.02 * maxLogit);
            int vocab = f32.config().vocabSize();
            for (int pos = 0; pos < p.length; pos++) {
                int want = argmax(a, pos * vocab, vocab), got = argmax(b, pos * vocab, vocab);
                if (got != want) {
                    double margin = a[pos * vocab + want] - a[pos * vocab + got];
                    assertThat(margin).as("position %d: top token %d -> %d", pos, want, got).isLessThan(2 * maxDiff);
                }
            }
        }
    }

    /**
     * Emulated bf16 (rounded operands, float32 kernels) is the same arithmetic as oneDNN's up to the order of the
     * sums. That order alone moves the logits by a few hundredths here (measured: 0.039 between the emulation over
     * OpenBLAS and over the Java kernels, against 1.3e-5 for the same pair in float32): an activation near a bf16
     * rounding boundary rounds the other way and the change carries through the layers. So oneDNN must agree with
     * the emulation as closely as the emulation's two kernels agree with each other.
     */
    @Test
    void theJavaEmulationComputesTheSameAsOneDnn() {
        float[] oneDnn = logits(bf16, prompts[0], Dnnl.Use.ALWAYS, Blas.Use.LARGE);
        float[] overBlas = logits(bf16, prompts[0], Dnnl.Use.NEVER, Blas.Use.LARGE);
        float[] overJava = logits(bf16, prompts[0], Dnnl.Use.NEVER, Blas.Use.NEVER);
        double orderAlone = maxDiff(overBlas, overJava);
        assertThat(orderAlone).isLessThan(0.1);
        assertThat(maxDiff(oneDnn, overBlas)).isLessThanOrEqualTo(2 * orderAlone + 1e-3);
        assertThat(maxDiff(oneDnn, overJava)).isLessThanOrEqualTo(2 * orderAlone + 1e-3);
    }

    private static float[] logits(Model model, int[] prompt, Dnnl.Use dnnl, Blas.Use blas) {
        Dnnl.choose(dnnl);
        Blas.choose(blas);
        try {
            return model.forward(Batch.of(prompt), new Hooks()).logits(0).data();
        } finally {
            Dnnl.choose(null);
            Blas.choose(null);
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static int argmax(float[] a, int from, int n) {
        int best = from;
        for (int i = from + 1; i < from + n; i++) if (a[i] > a[best]) best = i;
        return best - from;
    }

    @Test
    void greedyTokensAreTheSame() {
        Generator a = new Generator(f32, null, new int[0]), b = new Generator(bf16, null, new int[0]);
        for (int[] p : prompts) {
            int[] want = a.generate(p, SamplingParams.greedy(12), new Hooks()).tokenIds();
            int[] got = b.generate(p, SamplingParams.greedy(12), new Hooks()).tokenIds();
            assertThat(got).isEqualTo(want);
        }
    }
}
