package dev.vane.train.optim;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LrScheduleTest {
    /*
     * Expected values from transformers' lr_lambda functions written out in Python, peak 2e-4, warm-up 10,
     * total 100:
     *   cosine: 0 -> 0.0, 5 -> 1e-4, 10 -> 2e-4, 30 -> 1.766044443118978e-4, 55 -> 1e-4,
     *           75 -> 3.5721239031346066e-05, 99 -> 6.09172980904238e-08, 100 -> 0.0
     *   linear: 30 -> 1.5555555555555556e-4, 75 -> 5.555555555555556e-05, 99 -> 2.2222222222222225e-06, 100 -> 0.0
     */
    private static final LrSchedule COSINE = new LrSchedule(LrSchedule.Kind.COSINE, 2e-4, 10, 100);
    private static final LrSchedule LINEAR = new LrSchedule(LrSchedule.Kind.LINEAR, 2e-4, 10, 100);

    @Test
    void warmUpRisesLinearlyFromZero() {
        for (LrSchedule s : new LrSchedule[]{COSINE, LINEAR, new LrSchedule(LrSchedule.Kind.CONSTANT, 2e-4, 10, 100)}) {
            assertThat(s.lr(0)).as(s.kind() + " at 0").isEqualTo(0.0);
            assertThat(s.lr(5)).as(s.kind() + " at 5").isCloseTo(1e-4, within(1e-18));
            assertThat(s.lr(10)).as(s.kind() + " at 10").isCloseTo(2e-4, within(1e-18));
        }
    }

    @Test
    void cosineMatchesTransformers() {
        assertThat(COSINE.lr(30)).isCloseTo(1.766044443118978e-4, within(1e-18));
        assertThat(COSINE.lr(55)).as("midpoint of the decay").isCloseTo(1e-4, within(1e-18));
        assertThat(COSINE.lr(75)).isCloseTo(3.5721239031346066e-05, within(1e-18));
        assertThat(COSINE.lr(99)).isCloseTo(6.09172980904238e-08, within(1e-18));
        assertThat(COSINE.lr(100)).isCloseTo(0.0, within(1e-18));
    }

    @Test
    void linearMatchesTransformers() {
        assertThat(LINEAR.lr(30)).isCloseTo(1.5555555555555556e-4, within(1e-18));
        assertThat(LINEAR.lr(55)).isCloseTo(1e-4, within(1e-18));
        assertThat(LINEAR.lr(75)).isCloseTo(5.555555555555556e-05, within(1e-18));
        assertThat(LINEAR.lr(99)).isCloseTo(2.2222222222222225e-06, within(1e-18));
        assertThat(LINEAR.lr(100)).isEqualTo(0.0);
        assertThat(LINEAR.lr(150)).as("stays at 0 after the end").isEqualTo(0.0);
    }

    @Test
    void constantStaysAtThePeakAndNoWarmUpStartsThere() {
        LrSchedule constant = new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-3, 0, 50);
        assertThat(constant.lr(0)).isEqualTo(1e-3);
        assertThat(constant.lr(49)).isEqualTo(1e-3);
        assertThat(new LrSchedule(LrSchedule.Kind.COSINE, 1e-3, 0, 50).lr(0)).isEqualTo(1e-3);
    }

    @Test
    void parsesKindsAndRejectsBadValues() {
        assertThat(LrSchedule.Kind.parse("Cosine")).isEqualTo(LrSchedule.Kind.COSINE);
        assertThat(LrSchedule.Kind.LINEAR.label()).isEqualTo("linear");
        assertThatThrownBy(() -> LrSchedule.Kind.parse("step")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("cosine, linear or constant");
        assertThatThrownBy(() -> new LrSchedule(LrSchedule.Kind.COSINE, 1e-3, -1, 10)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new LrSchedule(LrSchedule.Kind.COSINE, 1e-3, 0, 0)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new LrSchedule(LrSchedule.Kind.COSINE, Double.NaN, 0, 10)).isInstanceOf(InvalidInputException.class);
    }
}
