package dev.vane.lab.align;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefixLengthTest {
    @Test
    void halfTheDrawsAreZeroAndTheRestUniformUpToTheAnswersLength() {
        PrefixLength lengths = PrefixLength.paper();
        Random random = new Random(1);
        int draws = 40_000, answer = 40;
        int[] counts = new int[answer + 1];
        for (int i = 0; i < draws; i++) counts[lengths.draw(random, answer)]++;
        // k = 0: binomial(40000, 0.5), standard deviation 100
        assertThat(counts[0]).isBetween(19_600, 20_400);
        // each k in 1..40: about 20000 / 40 = 500 draws, standard deviation ~22
        for (int k = 1; k <= answer; k++) assertThat(counts[k]).as("k = " + k).isBetween(400, 600);
        // chi-square of the 40 nonzero buckets against uniform: 39 degrees of freedom, 99.9% quantile 72.1
        int nonzero = draws - counts[0];
        double expected = nonzero / (double) answer, chi2 = 0;
        for (int k = 1; k <= answer; k++) chi2 += Math.pow(counts[k] - expected, 2) / expected;
        assertThat(chi2).isLessThan(72.1);
    }

    @Test
    void kNeverExceedsAHundredTokensNorTheAnswer() {
        PrefixLength lengths = PrefixLength.paper();
        Random random = new Random(2);
        int[] long_ = IntStream.range(0, 5000).map(i -> lengths.draw(random, 300)).toArray();
        assertThat(IntStream.of(long_).max().orElseThrow()).isEqualTo(100);
        int[] short_ = IntStream.range(0, 5000).map(i -> lengths.draw(random, 3)).toArray();
        assertThat(IntStream.of(short_).max().orElseThrow()).isEqualTo(3);
        assertThat(IntStream.of(short_).min().orElseThrow()).isZero();
    }

    @Test
    void theSameSeedGivesTheSameLengthsOnEveryJvm() {
        // java.util.Random's algorithm is part of the Java specification: these are the lengths of seed 0.
        Random random = new Random(0);
        int[] ks = IntStream.range(0, 12).map(i -> PrefixLength.paper().draw(random, 10)).toArray();
        assertThat(ks).containsExactly(10, 4, 10, 8, 0, 5, 0, 0, 0, 0, 3, 6);
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new PrefixLength(1.5, 100)).isInstanceOf(InvalidInputException.class).hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> new PrefixLength(0.5, 0)).isInstanceOf(InvalidInputException.class).hasMessageContaining(">= 1");
        assertThat(new PrefixLength(1.0, 100).draw(new Random(3), 50)).isZero();
        assertThat(new PrefixLength(0.0, 1).draw(new Random(3), 50)).isEqualTo(1);
    }
}
