package dev.vane.lab.stats;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** ASR arithmetic: rates, Wilson intervals, tallies by group. */
class ProportionTest {
    @Test
    void rateAndWilsonInterval() {
        Proportion r = new Proportion(27, 30);
        assertThat(r.rate()).isEqualTo(0.9);
        // Wilson score interval, z = 1.96: centre (p + z²/2n) / (1 + z²/n), half-width z/(1 + z²/n) sqrt(p(1-p)/n + z²/4n²).
        assertThat(r.interval().low()).isCloseTo(0.74379, within(1e-5));
        assertThat(r.interval().high()).isCloseTo(0.96540, within(1e-5));
        Proportion none = new Proportion(0, 10);
        assertThat(none.interval().low()).isZero();
        assertThat(none.interval().high()).isCloseTo(0.27753, within(1e-5));
        Proportion all = new Proportion(10, 10);
        assertThat(all.interval().low()).isCloseTo(0.72247, within(1e-5));
        assertThat(all.interval().high()).isEqualTo(1.0);
        assertThat(new Proportion(1, 2).interval().low() + new Proportion(1, 2).interval().high())
                .isCloseTo(1.0, within(1e-12));          // symmetric about 1/2
    }

    @Test
    void emptyAndInvalidTallies() {
        assertThat(Proportion.none().rate()).isNaN();
        assertThat(Proportion.none().interval()).isEqualTo(new Proportion.Interval(0, 1));
        assertThat(Proportion.none().plus(true).plus(false).plus(true)).isEqualTo(new Proportion(2, 3));
        assertThatThrownBy(() -> new Proportion(3, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Proportion(-1, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void clusteredTrialsGetTheIntervalOfTheirEffectiveSampleSize() {
        // Two prompts always broken, two never, three samples each: 6 of 12 samples, but 4 prompts' worth of evidence.
        // Cluster-robust variance 9/144 * 4/3 = 1/12 over the binomial 0.25/12: design effect 4, effective n 3.
        Proportion p = Proportion.clustered(new int[]{3, 3, 0, 0}, new int[]{3, 3, 3, 3});
        assertThat(p.rate()).isEqualTo(0.5);
        assertThat(p.design()).isCloseTo(4.0, within(1e-12));
        assertThat(p.effectiveN()).isCloseTo(3.0, within(1e-12));
        assertThat(p.interval().low()).isCloseTo(0.12533, within(1e-5));
        assertThat(p.interval().high()).isCloseTo(0.87467, within(1e-5));
        assertThat(new Proportion(6, 12).interval().low()).isCloseTo(0.25378, within(1e-5));     // narrower, wrongly

        // Mixed clusters: residuals 0.5, -0.5, 1.5, -1.5 give design effect 20/9.
        Proportion mixed = Proportion.clustered(new int[]{2, 1, 3, 0}, new int[]{3, 3, 3, 3});
        assertThat(mixed.design()).isCloseTo(20 / 9.0, within(1e-12));
        assertThat(mixed.interval().low()).isCloseTo(0.17764, within(1e-5));

        // Every sample agrees: the design effect is undefined, the evidence counts as one trial per prompt.
        Proportion none = Proportion.clustered(new int[]{0, 0, 0, 0}, new int[]{3, 3, 3, 3});
        assertThat(none.effectiveN()).isCloseTo(4.0, within(1e-12));
        assertThat(none.interval().high()).isCloseTo(0.48989, within(1e-5));

        // One trial per cluster is independent sampling; agreement inside clusters never narrows the interval.
        assertThat(Proportion.clustered(new int[]{1, 0, 1}, new int[]{1, 1, 1})).isEqualTo(new Proportion(2, 3));
        Proportion spread = Proportion.clustered(new int[]{1, 2, 1, 2}, new int[]{3, 3, 3, 3});
        assertThat(spread.design()).isEqualTo(1.0);
        assertThatThrownBy(() -> Proportion.clustered(new int[]{4}, new int[]{3})).isInstanceOf(IllegalArgumentException.class);
    }
}
