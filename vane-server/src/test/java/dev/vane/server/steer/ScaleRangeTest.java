package dev.vane.server.steer;

import dev.vane.lab.steer.PositionRule;
import dev.vane.lab.steer.SteeringVector;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ScaleRangeTest {
    private static SteeringVector.Metadata recommending(double scale) {
        return new SteeringVector.Metadata("antidote", "m", "positive = safer", PositionRule.ALL, scale, 0.05, "d", Map.of());
    }

    @Test
    void twiceTheRecommendedScaleEitherWayInRoundSteps() {
        assertThat(ScaleRange.of(recommending(57.1))).isEqualTo(new ScaleRange(-115, 115, 1));
        assertThat(ScaleRange.of(recommending(47.86))).isEqualTo(new ScaleRange(-96, 96, 0.5));
        assertThat(ScaleRange.of(recommending(1))).isEqualTo(new ScaleRange(-2, 2, 0.01));
        assertThat(ScaleRange.of(recommending(-4))).as("a negative recommendation spans the same").isEqualTo(new ScaleRange(-8, 8, 0.05));
    }

    @Test
    void aVectorRecommendingZeroGetsTheSpanOfScaleOne() {
        assertThat(ScaleRange.of(recommending(0))).isEqualTo(new ScaleRange(-2, 2, 0.01));
    }

    @Test
    void stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(ScaleRange.roundStep(0.479)).isEqualTo(0.5);
        assertThat(ScaleRange.roundStep(0.571)).isEqualTo(1.0);
        assertThat(ScaleRange.roundStep(1.2)).isEqualTo(2.0);
        assertThat(ScaleRange.roundStep(0.02)).isEqualTo(0.02);
        assertThat(ScaleRange.roundStep(30)).isEqualTo(50.0);
    }
}
