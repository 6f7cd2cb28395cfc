package dev.vane.lab.judge;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.lab.eval.LogProbs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores the fluency of generated answers under a reference model: the intact model, without the steering or
 * attack that produced them. Each answer is teacher-forced after its context (the chat prompt and any forced
 * prefill), several answers per forward call, with logits only for the answer's columns.
 *
 * <pre>{@code
 * FluencyScorer scorer = new FluencyScorer(model);           // the model with no hooks
 * List<Fluency> f = scorer.score(List.of(promptAndPrefillIds), List.of(generatedIds));
 * }</pre>
 */
public final class FluencyScorer {
    private static final int ROWS_PER_CALL = 8;
    private final Model reference;

    /** Scores under {@code reference}, run with no hooks. */
    public FluencyScorer(Model reference) {
        this.reference = reference;
    }

    /** The fluency of {@code continuation} generated after {@code context}. */
    public Fluency score(int[] context, int[] continuation) {
        return score(List.of(context), List.of(continuation)).getFirst();
    }

    /** The fluency of each {@code continuations[i]} generated after {@code contexts[i]}. */
    public List<Fluency> score(List<int[]> contexts, List<int[]> continuations) {
        if (contexts.size() != continuations.size()) {
            throw new IllegalArgumentException(contexts.size() + " contexts for " + continuations.size() + " continuations");
        }
        List<Fluency> out = new ArrayList<>(contexts.size());
        for (int from = 0; from < contexts.size(); from += ROWS_PER_CALL) {
            int to = Math.min(contexts.size(), from + ROWS_PER_CALL);
            out.addAll(chunk(contexts.subList(from, to), continuations.subList(from, to)));
        }
        return out;
    }

    private List<Fluency> chunk(List<int[]> contexts, List<int[]> continuations) {
        // Only rows with generated tokens need a forward; an empty answer has nothing to score.
        List<Integer> scored = new ArrayList<>();
        List<int[]> sequences = new ArrayList<>();
        int longest = 0;
        for (int i = 0; i < contexts.size(); i++) {
            int[] c = contexts.get(i), a = continuations.get(i);
            if (a.length == 0) continue;
            if (c.length == 0) throw new IllegalArgumentException("an answer needs a context to be scored after");
            // The last answer token is predicted, never fed: the sequence stops one before it.
            int[] seq = Arrays.copyOf(c, c.length + a.length - 1);
            System.arraycopy(a, 0, seq, c.length, a.length - 1);
            sequences.add(seq);
            scored.add(i);
            longest = Math.max(longest, a.length);
        }
        Fluency[] result = new Fluency[contexts.size()];
        if (!sequences.isEmpty()) {
            Batch batch = Batch.of(sequences.toArray(int[][]::new));
            ForwardResult fwd = reference.forward(batch, Hooks.none(), reference.newCache(batch.rows(), batch.columns()), longest);
            for (int r = 0; r < scored.size(); r++) {
                int[] answer = continuations.get(scored.get(r));
                FloatTensor logits = fwd.tailLogits(r, answer.length);
                int vocab = logits.dim(1);
                double sum = 0;
                for (int t = 0; t < answer.length; t++) sum += LogProbs.of(logits.data(), t * vocab, vocab, answer[t]);
                result[scored.get(r)] = new Fluency(sum / answer.length, answer.length, Fluency.repetition(answer));
            }
        }
        for (int i = 0; i < result.length; i++) {
            if (result[i] == null) result[i] = new Fluency(0, 0, 0);
        }
        return Arrays.asList(result);
    }
}
