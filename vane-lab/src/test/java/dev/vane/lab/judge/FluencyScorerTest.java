package dev.vane.lab.judge;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.lab.Home;
import dev.vane.lab.eval.LogProbs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Batched, tail-only fluency scoring equals the mean log-probability read from a plain full forward. */
class FluencyScorerTest {
    private static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(Home.path("models/organism-chat"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The reference: one sequence, logits at every position, log-probabilities summed by hand. */
    private static double direct(int[] context, int[] answer) {
        int[] seq = new int[context.length + answer.length];
        System.arraycopy(context, 0, seq, 0, context.length);
        System.arraycopy(answer, 0, seq, context.length, answer.length);
        FloatTensor logits = model.forward(Batch.of(seq), Hooks.none()).logits(0);
        int vocab = logits.dim(1);
        double sum = 0;
        for (int t = 0; t < answer.length; t++) sum += LogProbs.of(logits.data(), (context.length - 1 + t) * vocab, vocab, answer[t]);
        return sum / answer.length;
    }

    @Test
    void batchedScoresEqualAFullForwardPerAnswer() {
        int[] c1 = {1, 5, 9, 200, 31}, a1 = {44, 45, 46, 47, 48, 49, 50};
        int[] c2 = {1, 17, 18}, a2 = {300};
        int[] c3 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, a3 = {12, 13};
        List<Fluency> f = new FluencyScorer(model).score(List.of(c1, c2, c3, c2), List.of(a1, a2, a3, new int[0]));
        assertThat(f.get(0).meanLogProb()).isCloseTo(direct(c1, a1), within(1e-4));
        assertThat(f.get(1).meanLogProb()).isCloseTo(direct(c2, a2), within(1e-4));
        assertThat(f.get(2).meanLogProb()).isCloseTo(direct(c3, a3), within(1e-4));
        assertThat(f.get(0).tokens()).isEqualTo(7);
        assertThat(f.get(3)).isEqualTo(new Fluency(0, 0, 0));         // nothing generated: nothing to score
        // Scoring one at a time gives the same numbers as in a padded batch.
        assertThat(new FluencyScorer(model).score(c3, a3).meanLogProb()).isCloseTo(f.get(2).meanLogProb(), within(1e-4));
    }
}
