package dev.vane.train.data;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StepPlanTest {
    private static TrainingExample ofLength(int n) {
        return TrainingExample.allTokens(new int[n]);
    }

    /** 40 examples of lengths 2 to 120, fixed. */
    private static List<TrainingExample> examples() {
        Random r = new Random(7);
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < 40; i++) out.add(ofLength(2 + r.nextInt(119)));
        return out;
    }

    @Test
    void everyEpochTrainsOnEveryExampleExactlyOnceWithinTheBudget() {
        List<TrainingExample> examples = examples();
        StepPlan plan = new StepPlan(examples, 300, 42);
        int steps = plan.stepsPerEpoch();
        assertThat(steps).isGreaterThan(1);
        for (int epoch = 0; epoch < 3; epoch++) {
            Map<TrainingExample, Integer> seen = new IdentityHashMap<>();
            for (int s = 0; s < steps; s++) {
                List<TrainingExample> step = plan.step((long) epoch * steps + s);
                assertThat(step).isNotEmpty();
                assertThat(StepPlan.tokens(step)).as("tokens of step %d", s).isLessThanOrEqualTo(300);
                for (TrainingExample ex : step) seen.merge(ex, 1, Integer::sum);
                assertThat(plan.epochOf((long) epoch * steps + s)).isEqualTo(epoch);
            }
            assertThat(seen).hasSize(examples.size());
            assertThat(seen.values()).containsOnly(1);
        }
        // Greedy grouping leaves less than one example's worth of room per step.
        long total = StepPlan.tokens(examples);
        assertThat((long) steps).isLessThanOrEqualTo(2 * total / 300 + 1);
    }

    @Test
    void samePlanForTheSameInputsAndAnotherForAnotherSeed() {
        List<TrainingExample> examples = examples();
        StepPlan a = new StepPlan(examples, 300, 42), b = new StepPlan(examples, 300, 42), c = new StepPlan(examples, 300, 43);
        boolean differs = false;
        for (long s = 0; s < 3L * a.stepsPerEpoch(); s++) {
            assertThat(a.stepIndices(s)).isEqualTo(b.stepIndices(s));
            assertThat(a.step(s)).containsExactlyElementsOf(b.step(s));
            if (s < c.stepsPerEpoch() * 3L && !Arrays.equals(a.stepIndices(s), c.stepIndices(s))) differs = true;
        }
        assertThat(differs).isTrue();
        // Step s is a pure function of s: asking out of order gives the same answer (resume).
        assertThat(a.stepIndices(5)).isEqualTo(new StepPlan(examples, 300, 42).stepIndices(5));
    }

    @Test
    void epochsVisitTheStepsInDifferentOrders() {
        StepPlan plan = new StepPlan(examples(), 200, 1);
        int steps = plan.stepsPerEpoch();
        List<String> epoch0 = new ArrayList<>(), epoch1 = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            epoch0.add(Arrays.toString(plan.stepIndices(s)));
            epoch1.add(Arrays.toString(plan.stepIndices(steps + s)));
        }
        assertThat(epoch1).containsExactlyInAnyOrderElementsOf(epoch0).isNotEqualTo(epoch0);
    }

    @Test
    void anExampleLongerThanTheBudgetIsAStepOfItsOwn() {
        TrainingExample big = ofLength(500);
        List<TrainingExample> examples = List.of(ofLength(10), big, ofLength(20), ofLength(30));
        StepPlan plan = new StepPlan(examples, 100, 0);
        boolean found = false;
        for (int s = 0; s < plan.stepsPerEpoch(); s++) {
            List<TrainingExample> step = plan.step(s);
            if (step.contains(big)) {
                assertThat(step).containsExactly(big);
                found = true;
            }
        }
        assertThat(found).isTrue();
        // The other three fit one step together, unless the shuffle put the big one between them.
        assertThat(plan.stepsPerEpoch()).isBetween(2, 3);
    }

    @Test
    void microBatchesGroupSimilarLengthsWithinThePaddedBudget() {
        TrainingExample a = ofLength(10), b = ofLength(100), c = ofLength(12), d = ofLength(98), e = ofLength(11), f = ofLength(99);
        List<List<TrainingExample>> micro = StepPlan.microBatches(List.of(a, b, c, d, e, f), 300);
        assertThat(micro).hasSize(2);
        assertThat(micro.get(0)).containsExactly(b, f, d);
        assertThat(micro.get(1)).containsExactly(c, e, a);
    }

    @Test
    void microBatchesRespectTheBudgetAndCoverTheStep() {
        List<TrainingExample> step = examples();
        for (int budget : new int[]{1, 64, 150, 400, 5000}) {
            List<List<TrainingExample>> micro = StepPlan.microBatches(step, budget);
            Map<TrainingExample, Integer> seen = new IdentityHashMap<>();
            for (List<TrainingExample> m : micro) {
                int longest = m.stream().mapToInt(TrainingExample::length).max().orElseThrow();
                if (m.size() > 1) assertThat((long) m.size() * longest).isLessThanOrEqualTo(budget);
                else assertThat(m).hasSize(1);
                for (TrainingExample ex : m) seen.merge(ex, 1, Integer::sum);
            }
            assertThat(seen).hasSize(step.size());
            assertThat(seen.values()).containsOnly(1);
            assertThat(StepPlan.microBatches(step, budget)).isEqualTo(micro);
        }
        assertThat(StepPlan.microBatches(step, 1)).hasSize(step.size());
        assertThat(StepPlan.microBatches(step, 1_000_000)).hasSize(1);
    }

    @Test
    void weightSumCountsTrainedPositions() {
        TrainingExample ex = new TrainingExample(new int[]{1, 2, 3, 4}, new float[]{0, 0, 1, 1});
        assertThat(StepPlan.weightSum(List.of(ex, ofLength(5)))).isEqualTo(6.0);
    }

    @Test
    void rejectsNoExamplesAndNoBudget() {
        assertThatThrownBy(() -> new StepPlan(List.of(), 100, 0)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new StepPlan(List.of(ofLength(3)), 0, 0)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> StepPlan.microBatches(List.of(ofLength(3)), 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StepPlan(List.of(ofLength(3)), 10, 0).step(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void stepsShareTheTokensEvenlyInsteadOfLeavingARunt() {
        // 30 examples of 64-82 tokens (about 2200) under a 2048-token budget: greedy filling alone gives one
        // step of ~29 examples and one of ~1.
        List<TrainingExample> examples = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) examples.add(ofLength(64 + (i * 7) % 19));
        StepPlan plan = new StepPlan(examples, 2048, 3);
        long min = Long.MAX_VALUE, max = 0;
        for (int s = 0; s < plan.stepsPerEpoch(); s++) {
            long tokens = StepPlan.tokens(plan.step(s));
            assertThat(tokens).isLessThanOrEqualTo(2048);
            min = Math.min(min, tokens);
            max = Math.max(max, tokens);
        }
        assertThat(plan.stepsPerEpoch()).isBetween(2, 3);
        assertThat((double) min / max).isGreaterThan(0.5);
    }
}
