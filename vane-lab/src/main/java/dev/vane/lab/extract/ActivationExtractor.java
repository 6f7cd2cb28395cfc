package dev.vane.lab.extract;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Reads activations of many sequences at one position each, in batches: the first step of every direction
 * builder and probe. Sequences are grouped by length so that batches carry little padding, and the forward
 * pass skips the unembedding.
 *
 * <pre>{@code
 * ActivationExtractor ex = new ActivationExtractor(model);
 * Map<String, float[][]> acts = ex.extract(sequences, -1,
 *         List.of("blocks.3.hook_resid_post", "blocks.3.attn.hook_z"), done -> {});
 * float[][] resid = acts.get("blocks.3.hook_resid_post");   // [sequence][d_model]
 * float[][] z = acts.get("blocks.3.attn.hook_z");            // [sequence][heads * d_head]
 * }</pre>
 */
public final class ActivationExtractor {
    private final Model model;
    private final int batchSize;

    /** An extractor with batches of 16 sequences. */
    public ActivationExtractor(Model model) {
        this(model, 16);
    }

    /** An extractor with batches of {@code batchSize} sequences. */
    public ActivationExtractor(Model model, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive");
        this.model = model;
        this.batchSize = batchSize;
    }

    /** Every sequence read at the same position ({@code position} < 0 counts from the end). */
    public Map<String, float[][]> extract(List<int[]> sequences, int position, List<String> points,
                                         IntConsumer progress) {
        int[] at = new int[sequences.size()];
        java.util.Arrays.fill(at, position);
        return extract(sequences, at, points, progress);
    }

    /**
     * The activation at {@code positions[i]} of sequence i (negative = from the end) at each hook point, as
     * {@code point -> [sequence][width]} with width d_model, or heads * d_head for per-head points.
     * {@code progress} receives the number of sequences done after each batch.
     */
    public Map<String, float[][]> extract(List<int[]> sequences, int[] positions, List<String> points,
                                         IntConsumer progress) {
        if (positions.length != sequences.size()) throw new IllegalArgumentException("one position per sequence");
        int context = model.config().maxPositions();
        int[] resolved = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            int n = sequences.get(i).length;
            if (n == 0) throw new InvalidInputException("sequence " + i + " is empty");
            if (n > context) {
                throw new InvalidInputException("sequence " + i + " has " + n + " tokens, more than the model's context "
                        + context);
            }
            int p = positions[i] < 0 ? n + positions[i] : positions[i];
            if (p < 0 || p >= n) {
                throw new InvalidInputException("position " + positions[i] + " is outside sequence " + i + " of "
                        + n + " tokens");
            }
            resolved[i] = p;
        }
        for (String point : points) {
            HookPoint hp = HookPoint.parse(point);
            if (hp.kind() == HookPoint.Kind.PATTERN || hp.kind() == HookPoint.Kind.LOGITS) {
                throw new InvalidInputException("cannot extract " + point + " at one position; use a cache");
            }
        }
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (String point : points) out.put(point, new float[sequences.size()][]);

        Integer[] order = IntStream.range(0, sequences.size()).boxed()
                .sorted(Comparator.comparingInt(i -> sequences.get(i).length)).toArray(Integer[]::new);
        int done = 0;
        ActivationCache cache = new ActivationCache();        // refilled per batch: its storage is reused
        for (int start = 0; start < order.length; start += batchSize) {
            int rows = Math.min(batchSize, order.length - start);
            int[][] batch = new int[rows][];
            int[] where = new int[rows];
            int longest = 0;
            for (int r = 0; r < rows; r++) {
                int i = order[start + r];
                batch[r] = sequences.get(i);
                where[r] = resolved[i];
                longest = Math.max(longest, batch[r].length);
            }
            cache.clear();
            Positions pick = (row, token, n) -> token == where[row];
            Hooks hooks = new Hooks().cache(cache, pick, points.toArray(String[]::new));
            model.forward(Batch.of(batch), hooks, model.newCache(rows, longest), LogitsMode.NONE);
            for (String point : points) {
                float[][] dst = out.get(point);
                for (int r = 0; r < rows; r++) dst[order[start + r]] = cache.get(point, r).data();
            }
            done += rows;
            progress.accept(done);
        }
        return out;
    }

}
