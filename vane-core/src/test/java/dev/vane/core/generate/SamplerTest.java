package dev.vane.core.generate;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplerTest {
    private static final float NEG = Float.NEGATIVE_INFINITY;

    /** Logits whose softmax is exactly the given probabilities. */
    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) l[i] = (float) Math.log(probs[i]);
        return l;
    }

    @Test
    void topKKeepsTheKLargestAndTiesAtTheBoundary() {
        float[] l = {1f, 5f, 3f, 3f, 0f};
        Sampler.topK(l, 2);
        assertThat(l).containsExactly(NEG, 5f, 3f, 3f, NEG);   // 3 ties with the 2nd largest: both kept
        float[] all = {1f, 2f};
        Sampler.topK(all, 5);
        assertThat(all).containsExactly(1f, 2f);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] l = logitsOf(0.5, 0.3, 0.15, 0.05);
        Sampler.topP(l, 0.7);                 // 0.5 < 0.7 -> keep 0.3; 0.8 >= 0.7 -> drop the rest
        assertThat(l[0]).isFinite();
        assertThat(l[1]).isFinite();
        assertThat(l[2]).isEqualTo(NEG);
        assertThat(l[3]).isEqualTo(NEG);

        float[] tiny = logitsOf(0.5, 0.3, 0.15, 0.05);
        Sampler.topP(tiny, 0.01);             // the most likely token always survives
        assertThat(tiny[0]).isFinite();
        assertThat(tiny[1]).isEqualTo(NEG);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTop() {
        float[] l = logitsOf(0.6, 0.25, 0.1, 0.05);
        Sampler.minP(l, 0.2);                 // threshold 0.12
        assertThat(l[0]).isFinite();
        assertThat(l[1]).isFinite();
        assertThat(l[2]).isEqualTo(NEG);
        assertThat(l[3]).isEqualTo(NEG);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOnce() {
        float[] l = {2f, -2f, 4f, 1f};
        Sampler.applyRepetitionPenalty(l, new int[]{0, 1, 1, 0, 99}, 5, 2f);   // repeats and out-of-range ids ignored
        assertThat(l).containsExactly(1f, -4f, 4f, 1f);
    }

    @Test
    void drawFollowsTheCumulativeDistribution() {
        float[] l = logitsOf(0.2, 0.5, 0.3);
        assertThat(Sampler.draw(l, 0.0)).isEqualTo(0);
        assertThat(Sampler.draw(l, 0.19)).isEqualTo(0);
        assertThat(Sampler.draw(l, 0.21)).isEqualTo(1);
        assertThat(Sampler.draw(l, 0.69)).isEqualTo(1);
        assertThat(Sampler.draw(l, 0.71)).isEqualTo(2);
        assertThat(Sampler.draw(new float[]{NEG, 0f, NEG}, 0.999)).isEqualTo(1);
    }

    @Test
    void greedyTakesTheFirstLargest() {
        Sampler greedy = new Sampler(SamplingParams.greedy(1), 0);
        assertThat(greedy.next(new float[]{1f, 3f, 3f, 2f}, new int[0], 0)).isEqualTo(1);
    }

    @Test
    void sameSeedSameDrawsDifferentSeedDifferentDraws() {
        SamplingParams p = SamplingParams.greedy(1).withTemperature(1.0);
        float[] flat = new float[50];
        int[] a = new int[40], b = new int[40], c = new int[40];
        Sampler sa = new Sampler(p, 7), sb = new Sampler(p, 7), sc = new Sampler(p, 8);
        for (int i = 0; i < 40; i++) {
            a[i] = sa.next(flat.clone(), new int[0], 0);
            b[i] = sb.next(flat.clone(), new int[0], 0);
            c[i] = sc.next(flat.clone(), new int[0], 0);
        }
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void samplingNeverPicksAFilteredToken() {
        SamplingParams p = SamplingParams.greedy(1).withTemperature(2.0).withTopK(2);
        Sampler s = new Sampler(p, 3);
        for (int i = 0; i < 200; i++) {
            int t = s.next(new float[]{0f, 1f, 0.5f, 0.9f}, new int[0], 0);
            assertThat(t).isIn(1, 3);
        }
    }

    @Test
    void invalidParametersAreRejected() {
        assertThatThrownBy(() -> SamplingParams.greedy(1).withTopP(0)).isInstanceOf(InvalidInputException.class).hasMessageContaining("top-p");
        assertThatThrownBy(() -> SamplingParams.greedy(1).withTemperature(-1)).isInstanceOf(InvalidInputException.class).hasMessageContaining("temperature");
        assertThatThrownBy(() -> SamplingParams.greedy(-1)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> SamplingParams.greedy(1).withMinP(2)).isInstanceOf(InvalidInputException.class).hasMessageContaining("min-p");
        assertThatThrownBy(() -> SamplingParams.greedy(1).withStopStrings(List.of(""))).isInstanceOf(InvalidInputException.class);
    }
}
