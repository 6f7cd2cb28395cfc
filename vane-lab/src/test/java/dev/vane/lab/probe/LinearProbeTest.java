package dev.vane.lab.probe;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LinearProbeTest {
    private static final int N = 1000, D = 32;

    /** Gaussian activations with a large offset and uneven scales; label = side of a planted hyperplane. */
    private record Synthetic(float[][] x, boolean[] labels, double[] direction) { }

    private static Synthetic planted(long seed, double noise) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] u = new double[D];
        double norm = 0;
        for (int j = 0; j < D; j++) {
            u[j] = gaussian(r);
            norm += u[j] * u[j];
        }
        for (int j = 0; j < D; j++) u[j] /= Math.sqrt(norm);
        float[][] x = new float[N][D];
        boolean[] y = new boolean[N];
        for (int i = 0; i < N; i++) {
            double dot = 0;
            for (int j = 0; j < D; j++) {
                double v = gaussian(r);
                x[i][j] = (float) (v + 5);          // offset: the probe must handle uncentred activations
                dot += v * u[j];
            }
            y[i] = dot + noise * gaussian(r) > 0;
        }
        return new Synthetic(x, y, u);
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    @Test
    void recoversAPlantedDirection() {
        Synthetic s = planted(1, 0.1);
        LinearProbe probe = new LinearProbe(1.0);
        ProbeScore score = probe.crossValidate(s.x(), s.labels(), Folds.stratified(s.labels(), 5, 0));
        assertThat(score.accuracy()).isGreaterThan(0.9);
        assertThat(score.foldAccuracies()).hasSize(5);
        for (double a : score.foldAccuracies()) assertThat(a).isGreaterThan(0.8);

        LinearProbe.Fit fit = probe.fit(s.x(), s.labels());
        double dot = 0, norm = 0;
        for (int j = 0; j < D; j++) {
            dot += fit.weights()[j] * s.direction()[j];
            norm += fit.weights()[j] * fit.weights()[j];
        }
        assertThat(dot / Math.sqrt(norm)).as("cosine with the planted direction").isGreaterThan(0.9);
        int correct = 0;
        for (int i = 0; i < N; i++) if (fit.predict(s.x()[i]) == s.labels()[i]) correct++;
        assertThat(correct).as("training accuracy of the unstandardised probe").isGreaterThan(N * 95 / 100);
    }

    @Test
    void randomLabelsScoreNearChance() {
        Synthetic s = planted(2, 0);
        SplittableRandom r = new SplittableRandom(3);
        boolean[] shuffled = new boolean[N];
        for (int i = 0; i < N; i++) shuffled[i] = r.nextBoolean();
        ProbeScore score = new LinearProbe(1.0).crossValidate(s.x(), shuffled, Folds.stratified(shuffled, 5, 0));
        assertThat(score.accuracy()).isBetween(0.38, 0.62);
    }

    @Test
    void labelsAreNotSwapped() {
        // liblinear orders classes as first seen: a false first row must not flip the probe.
        double[][] x = {{-2}, {-1}, {1}, {2}};
        LogisticRegression lr = LogisticRegression.fit(x, new boolean[]{false, false, true, true}, 10);
        assertThat(lr.weights()[0]).isPositive();
        assertThat(lr.predict(new double[]{3})).isTrue();
        assertThat(lr.probability(new double[]{0})).isCloseTo(0.5, within(1e-6));
        LogisticRegression flipped = LogisticRegression.fit(x, new boolean[]{true, true, false, false}, 10);
        assertThat(flipped.weights()[0]).isNegative();
    }

    @Test
    void foldsAreStratifiedAndSeeded() {
        boolean[] labels = new boolean[23];
        for (int i = 0; i < 8; i++) labels[i] = true;
        Folds a = Folds.stratified(labels, 4, 7), b = Folds.stratified(labels, 4, 7), c = Folds.stratified(labels, 4, 8);
        int covered = 0;
        boolean differs = false;
        for (int f = 0; f < 4; f++) {
            int[] test = a.test(f);
            assertThat(test).isEqualTo(b.test(f));
            differs |= !java.util.Arrays.equals(test, c.test(f));
            assertThat(test.length).isBetween(5, 6);
            int positives = 0;
            for (int i : test) if (labels[i]) positives++;
            assertThat(positives).isEqualTo(2);
            assertThat(a.train(f).length + test.length).isEqualTo(23);
            covered += test.length;
        }
        assertThat(covered).isEqualTo(23);
        assertThat(differs).as("another seed gives other folds").isTrue();
    }

    @Test
    void tooFewExamplesOfALabelIsBadInput() {
        assertThatThrownBy(() -> Folds.stratified(new boolean[]{true, true, false, false, false}, 3, 0))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("at least 3 examples of each label");
    }

    @Test
    void groupedFoldsHoldOutWholeGroups() {
        int[] groupOf = new int[20];
        for (int i = 0; i < 20; i++) groupOf[i] = i % 10;        // pairs: i and i + 10, as paired A/B data
        Folds folds = Folds.grouped(groupOf, 5, 3);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int f = 0; f < 5; f++) {
            int[] test = folds.test(f);
            assertThat(test).hasSize(4);
            for (int i : test) {
                assertThat(test).as("fold %d holds %d's twin", f, i).contains((i + 10) % 20);
                seen.add(i);
            }
        }
        assertThat(seen).hasSize(20);
        assertThatThrownBy(() -> Folds.grouped(new int[]{0, 0, 1, 1}, 3, 0)).hasMessageContaining("at least 3 groups");
    }
}
