package dev.vane.core.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RopeScalingTest {

    @Test
    void defaultFrequenciesAreThetaToTheMinusTwoIOverD() {
        double[] inv = RopeScaling.NONE.inverseFrequencies(10000.0, 16);
        assertThat(inv).hasSize(8);
        // 10000^(-2i/16) = 10^(-i/2)
        double[] expected = {1.0, 0.31622776601683794, 0.1, 0.03162277660168379, 0.01, 0.003162277660168379,
                0.001, 0.00031622776601683794};
        for (int i = 0; i < 8; i++) {
            assertThat(inv[i]).as("i=%d", i).isCloseTo(expected[i], within(1e-15));
            assertThat(inv[i]).isEqualTo(1.0 / Math.pow(10000.0, 2.0 * i / 16));
        }
    }

    @Test
    void defaultFrequenciesForAnotherTheta() {
        double[] inv = RopeScaling.NONE.inverseFrequencies(500000.0, 8);
        assertThat(inv).hasSize(4);
        assertThat(inv[0]).isEqualTo(1.0);
        assertThat(inv[2]).isCloseTo(1.0 / Math.sqrt(500000.0), within(1e-15));
        assertThat(inv[3]).isCloseTo(Math.pow(500000.0, -0.75), within(1e-15));
    }

    @Test
    void linearDividesEveryFrequencyByTheFactor() {
        double[] plain = RopeScaling.NONE.inverseFrequencies(10000.0, 16);
        double[] linear = new RopeScaling("linear", 4.0, 0, 0, 0).inverseFrequencies(10000.0, 16);
        for (int i = 0; i < plain.length; i++) {
            assertThat(linear[i]).isCloseTo(plain[i] / 4.0, within(1e-15));
        }
        assertThat(linear[0]).isEqualTo(0.25);
    }

    /**
     * factor 8, low_freq_factor 1, high_freq_factor 4, original 32 positions: wavelengths above 32 / 1 = 32
     * are low frequency (divided by 8), below 32 / 4 = 8 high frequency (unchanged), in between blended.
     * With theta 10000 and d 16 the wavelengths 2 pi / 10^(-i/2) are 6.28 (high), 19.87 (medium), 62.8 (low), ...
     */
    @Test
    void llama3HasThreeRegimes() {
        RopeScaling s = new RopeScaling("llama3", 8.0, 1.0, 4.0, 32);
        double[] inv = s.inverseFrequencies(10000.0, 16);
        assertThat(inv).hasSize(8);

        // i = 0: inv 1, wavelength 2 pi < 8 -> unchanged
        assertThat(inv[0]).isEqualTo(1.0);

        // i = 1: inv 10^-0.5 = 0.316227766, wavelength 19.869 in [8, 32] -> blended
        double f = 0.31622776601683794;
        double wavelength = 2 * Math.PI / f;                      // 19.869176531592203
        double smooth = (32 / wavelength - 1) / (4 - 1);          // 0.2035115957811950
        assertThat(smooth).isCloseTo(0.20351159578119504, within(1e-12));
        double blended = (1 - smooth) * f / 8 + smooth * f;       // 0.0958399858829627
        assertThat(inv[1]).isCloseTo(blended, within(1e-15));
        assertThat(inv[1]).isCloseTo(0.09583998588296266, within(1e-12));
        assertThat(inv[1]).isStrictlyBetween(f / 8, f);

        // i >= 2: wavelengths 62.8, 198.7, ... > 32 -> divided by 8
        assertThat(inv[2]).isCloseTo(0.1 / 8, within(1e-15));
        assertThat(inv[2]).isCloseTo(0.0125, within(1e-15));
        for (int i = 2; i < 8; i++) {
            assertThat(inv[i]).as("i=%d", i).isCloseTo(Math.pow(10, -i / 2.0) / 8, within(1e-15));
        }
    }

    @Test
    void llama3BoundariesAreMedium() {
        // theta chosen so that inv[1] has wavelength exactly 8 (high boundary): inv = 2 pi / 8, theta^(-2/4) = inv
        // -> theta = inv^-2. At the boundary smooth = (32/8 - 1) / 3 = 1, i.e. unchanged either way; at the low
        // boundary (wavelength 32) smooth = 0, i.e. divided by the factor either way: the blend is continuous.
        RopeScaling s = new RopeScaling("llama3", 8.0, 1.0, 4.0, 32);
        double high = 2 * Math.PI / 8;
        double[] atHigh = s.inverseFrequencies(Math.pow(high, -2), 4);
        assertThat(atHigh[1]).isCloseTo(high, within(1e-12));
        double low = 2 * Math.PI / 32;
        double[] atLow = s.inverseFrequencies(Math.pow(low, -2), 4);
        assertThat(atLow[1]).isCloseTo(low / 8, within(1e-12));
    }

    @Test
    void llama3FixtureFrequenciesAreUnchangedOrDividedByEight() {
        // theta 500000, head_dim 8: wavelengths 6.28 (high) then 167, 4443, 118000 (all low)
        ModelConfig c = ModelConfig.read(Fixtures.dir("llama3"));
        double[] inv = c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim());
        assertThat(inv[0]).isEqualTo(1.0);
        for (int i = 1; i < 4; i++) {
            assertThat(inv[i]).isCloseTo(Math.pow(500000.0, -i / 4.0) / 8, within(1e-15));
        }
    }
}
