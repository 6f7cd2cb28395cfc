package dev.vane.train.optim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class GradientClippingTest {
    @Test
    void scalesAllGradientsByOneFactorWhenTheGlobalNormIsTooLarge() {
        // norm = sqrt(3^2 + 4^2 + 12^2) = 13; scale = 1 / (13 + 1e-6) = 0.07692307100591762 (Python)
        float[] a = {3f, 4f}, b = {12f};
        double norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 1.0);
        assertThat(norm).isEqualTo(13.0);
        assertThat((double) a[0]).isCloseTo(0.23076921301775288, within(1e-7));
        assertThat((double) a[1]).isCloseTo(0.3076922840236705, within(1e-7));
        assertThat((double) b[0]).isCloseTo(0.9230768520710115, within(1e-7));
        assertThat(GradientClipping.globalNorm(List.of(a, b))).isCloseTo(1.0, within(1e-6));
    }

    @Test
    void leavesSmallGradientsAlone() {
        float[] a = {0.3f, 0.4f};
        assertThat(GradientClipping.clipByGlobalNorm(List.of(a), 1.0)).isCloseTo(0.5, within(1e-7));
        assertThat(a).containsExactly(0.3f, 0.4f);
    }

    @Test
    void largeGradientsAreSummedAndScaledWholly() {
        int n = (1 << 16) * 2 + 7;
        float[] g = new float[n];
        java.util.Arrays.fill(g, 2f);
        double norm = GradientClipping.clipByGlobalNorm(List.of(g, new float[]{0f}), 1.0);
        assertThat(norm).isCloseTo(2 * Math.sqrt(n), within(1e-9));
        double scale = 1.0 / (norm + 1e-6);
        for (int i = 0; i < n; i += 9973) assertThat(g[i]).isEqualTo((float) (2f * (float) scale));
        assertThat(g[n - 1]).isEqualTo((float) (2f * (float) scale));
    }

    @Test
    void nonFiniteNormIsReportedAndNothingIsScaled() {
        float[] a = {Float.NaN, 1f};
        assertThat(GradientClipping.clipByGlobalNorm(List.of(a), 1.0)).isNaN();
        assertThat(a[1]).isEqualTo(1f);
        float[] inf = {Float.POSITIVE_INFINITY, 5f};
        assertThat(GradientClipping.clipByGlobalNorm(List.of(inf), 1.0)).isInfinite();
        assertThat(inf[1]).isEqualTo(5f);
        assertThatThrownBy(() -> GradientClipping.clipByGlobalNorm(List.of(a), 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
