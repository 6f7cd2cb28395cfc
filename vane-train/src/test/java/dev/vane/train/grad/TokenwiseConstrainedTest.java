package dev.vane.train.grad;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The token-wise constrained objective on hand-made logits, against numbers computed by hand (in double, in Python). */
class TokenwiseConstrainedTest {
    /**
     * Four positions over a vocabulary of 3: position 0 agrees with the reference (delta 0, weight 1), position 1 is
     * less likely than there (weight above 1), position 2 far more likely with beta 2 (2/(1+e^10) = 9.1e-5, clamped
     * to 1e-3), position 3 has loss weight 0.5 and beta 0.1. norm 3.5.
     */
    private static final float[] LOGITS = {2f, 0f, -1f, 0.5f, 1.5f, -0.5f, -1f, 0.25f, 3f, 1f, 1f, 1f};
    private static final int[] TARGETS = {0, 2, 2, 1};
    private static final float[] WEIGHTS = {1f, 1f, 1f, 0.5f};
    private static final double[] BETAS = {0.5, 2.0, 2.0, 0.1};
    /** log p_ref = log p_theta - delta with deltas 0, -0.4, 5, 1. */
    private static final double[] REFERENCE = {-0.16984601955628567, -2.0076059644443807, -5.0790362014041,
            -2.09861228866811};

    @Test
    void lossAndGradientMatchAHandComputationWithTheClampAndPerPositionBetas() {
        TokenwiseConstrained o = new TokenwiseConstrained(TARGETS, WEIGHTS, REFERENCE, BETAS, 3.5, TokenwiseConstrained.MIN_WEIGHT);
        float[] d = new float[12];
        double loss = o.lossAndGradient(LOGITS, 4, 3, d);

        // sum_t w_t c_t (-log p_t) / 3.5 with c = 1, 1.379949, 0.001 (clamped), 0.950042
        assertThat(loss).isCloseTo(1.1469034599774144, within(1e-6));
        assertThat(o.crossEntropy()).isCloseTo(0.9159412370682345, within(1e-6));
        assertThat(o.weightSum()).isCloseTo(0.8159913642217957, within(1e-6));
        double[] expected = {
                -0.04463007586247444, 0.03262719982416985, 0.012002876038304584,
                0.09648937133325025, 0.26228530473461126, -0.3587746760678615,
                4.835362542749376e-06, 1.6877073597860067e-05, -2.1712436140609456e-05,
                0.045240077382958085, -0.09048015476591618, 0.045240077382958085};
        for (int i = 0; i < d.length; i++) assertThat((double) d[i]).as("dLogits[" + i + "]").isCloseTo(expected[i], within(2e-7));
    }

    @Test
    void withoutTheClampTheFarMoreLikelyTokenAlmostStopsTraining() {
        TokenwiseConstrained o = new TokenwiseConstrained(TARGETS, WEIGHTS, REFERENCE, BETAS, 3.5, 0);
        float[] d = new float[12];
        o.lossAndGradient(LOGITS, 4, 3, d);
        // c = 2 / (1 + e^10) = 9.08e-5 instead of 1e-3: the gradient of position 2 shrinks 11-fold.
        assertThat((double) d[8]).isCloseTo(-2.1712436140609456e-05 * 9.079573740486879e-05 / 1e-3, within(1e-9));
    }

    @Test
    void theWeightIsOneWhereTheModelAgreesWithTheReferenceAndBrakesTokensThatGainedProbability() {
        assertThat(TokenwiseConstrained.weight(0, 0.1, 1e-3)).isEqualTo(1.0);
        assertThat(TokenwiseConstrained.weight(2, 2.0, 1e-3)).isCloseTo(2 / (1 + Math.exp(4)), within(1e-15));
        assertThat(TokenwiseConstrained.weight(-2, 2.0, 1e-3)).isCloseTo(2 / (1 + Math.exp(-4)), within(1e-15));
        // Saturation never gives NaN: e^x overflows to infinity and the weight to the clamp.
        assertThat(TokenwiseConstrained.weight(1e6, 2.0, 1e-3)).isEqualTo(1e-3);
        assertThat(TokenwiseConstrained.weight(-1e6, 2.0, 1e-3)).isEqualTo(2.0);
    }

    @Test
    void theObjectiveIsTwoOverBetaTimesMinusLogSigmoidAndStableAtTheExtremes() {
        // (2 / 0.1) * log 2 at delta 0: the constant the logged surrogate leaves out
        assertThat(TokenwiseConstrained.objective(0, 0.1)).isCloseTo(20 * Math.log(2), within(1e-12));
        assertThat(TokenwiseConstrained.objective(-1.5, 2.0)).isCloseTo(-Math.log(1 / (1 + Math.exp(3))), within(1e-12));
        assertThat(TokenwiseConstrained.objective(-1e4, 2.0)).isCloseTo(2e4, within(1e-6));
        assertThat(TokenwiseConstrained.objective(1e4, 2.0)).isEqualTo(0.0);
        // its derivative in delta is -c: the weight times the derivative of log p
        double h = 1e-6, delta = 0.3, beta = 2.0;
        double slope = (TokenwiseConstrained.objective(delta + h, beta) - TokenwiseConstrained.objective(delta - h, beta)) / (2 * h);
        assertThat(slope).isCloseTo(-TokenwiseConstrained.weight(delta, beta, 0), within(1e-8));
    }

    @Test
    void mismatchedInputsAreRefused() {
        assertThatThrownBy(() -> new TokenwiseConstrained(TARGETS, WEIGHTS, new double[3], BETAS, 1, 1e-3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("differ in length");
        assertThatThrownBy(() -> new TokenwiseConstrained(TARGETS, WEIGHTS, REFERENCE, new double[]{1, 1, 0, 1}, 1, 1e-3))
                .hasMessageContaining("beta must be > 0");
    }

    @Test
    void betasFollowThePaperAndTheLastValueRepeats() {
        ConstraintBetas paper = ConstraintBetas.paper();
        assertThat(paper.beta(0)).isEqualTo(0.5);
        for (int i = 1; i <= 4; i++) assertThat(paper.beta(i)).isEqualTo(2.0);
        assertThat(paper.beta(5)).isEqualTo(0.1);
        assertThat(paper.beta(400)).isEqualTo(0.1);
        assertThat(ConstraintBetas.parse(" 0.5, 2,2,2,2 ,0.1")).isEqualTo(paper);
        assertThat(paper.toString()).isEqualTo("0.5,2,2,2,2,0.1");
        assertThat(ConstraintBetas.parse(paper.toString())).isEqualTo(paper);
        assertThat(ConstraintBetas.parse("1").beta(9)).isEqualTo(1.0);
        assertThatThrownBy(() -> ConstraintBetas.parse("0.5,x")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("--betas");
        assertThatThrownBy(() -> ConstraintBetas.parse("0.5,0")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("> 0");
    }
}
