package dev.vane.lab.eval;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SafetyUtilityAreaTest {
    @Test
    void dominatedAreaOfTheSafetyUtilityPoints() {
        assertThat(SafetyUtilityArea.of(new double[]{1.0, 0.5}, new double[]{0.2, 0.9})).isCloseTo(0.55, within(1e-12));
        // a point worse on both axes adds nothing; order does not matter; NaN points are skipped
        assertThat(SafetyUtilityArea.of(new double[]{0.5, 0.4, 1.0, Double.NaN}, new double[]{0.9, 0.5, 0.2, 1}))
                .isCloseTo(0.55, within(1e-12));
        assertThat(SafetyUtilityArea.of(new double[]{1}, new double[]{1})).isEqualTo(1);
        assertThat(SafetyUtilityArea.of(new double[0], new double[0])).isZero();
    }
}
