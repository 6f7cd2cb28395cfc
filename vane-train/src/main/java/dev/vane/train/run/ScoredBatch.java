package dev.vane.train.run;

import dev.vane.core.model.Batch;
import dev.vane.train.data.TrainingExample;

import java.util.ArrayList;
import java.util.List;

/**
 * A micro-batch as the model sees it, a left-padded {@link Batch}, and the positions its loss scores: every token of
 * an example with a non-zero loss weight, predicted from the position before it.
 *
 * <p>For each scored position it also knows the position's place in its response ({@link #responseIndex}): 0 for
 * the first trained token after an untrained one, 1 for the next, and so on, restarting at each run of trained
 * tokens. In a chat example each assistant turn is such a run; in a safety-recovery example ({@code x + h[:k] ->
 * r}) the run starts at the refusal, after the untrained harmful prefix. The token-wise constrained objective picks
 * its beta by this index.
 *
 * <pre>{@code
 * ScoredBatch b = ScoredBatch.of(List.of(example));
 * model.forwardForTraining(b.batch(), Hooks.none(), tape);
 * Backward.run(model, tape, b.positions(), new CrossEntropy(b.targets(), b.weights(), norm), gradients);
 * }</pre>
 *
 * @param batch         the examples, left-padded to the longest
 * @param positions     flat index {@code row * columns + column} of the position that predicts each scored token
 * @param rows          the row of each scored position
 * @param targets       the scored token
 * @param weights       its loss weight
 * @param responseIndex its 0-based place in its run of trained tokens
 * @param tokens        tokens in the batch, padding excluded
 */
public record ScoredBatch(Batch batch, int[] positions, int[] rows, int[] targets, float[] weights, int[] responseIndex,
                          long tokens) {

    /** The micro-batch of {@code examples}. */
    public static ScoredBatch of(List<TrainingExample> examples) {
        int[][] seqs = new int[examples.size()][];
        long tokens = 0;
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = examples.get(i).tokens();
            tokens += seqs[i].length;
        }
        Batch batch = Batch.of(seqs);
        int columns = batch.columns();
        List<int[]> at = new ArrayList<>();
        List<Float> w = new ArrayList<>();
        for (int r = 0; r < seqs.length; r++) {
            TrainingExample ex = examples.get(r);
            int pad = batch.padding(r);
            int index = 0;
            for (int i = 1; i < ex.length(); i++) {
                if (ex.weights()[i] == 0f) {
                    index = 0;
                    continue;
                }
                at.add(new int[]{r * columns + pad + i - 1, r, ex.tokens()[i], index++});
                w.add(ex.weights()[i]);
            }
        }
        int n = at.size();
        int[] positions = new int[n], rows = new int[n], targets = new int[n], responseIndex = new int[n];
        float[] weights = new float[n];
        for (int i = 0; i < n; i++) {
            positions[i] = at.get(i)[0];
            rows[i] = at.get(i)[1];
            targets[i] = at.get(i)[2];
            responseIndex[i] = at.get(i)[3];
            weights[i] = w.get(i);
        }
        return new ScoredBatch(batch, positions, rows, targets, weights, responseIndex, tokens);
    }

    /** Number of scored positions. */
    public int size() {
        return positions.length;
    }
}
