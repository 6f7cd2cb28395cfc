package dev.vane.core.hook;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Activations copied out of forward calls by reading hooks, per hook point and batch row.
 *
 * <p>Positions are appended as calls run, so a cache filled during generation holds the prompt positions
 * followed by each generated token. Padding is never stored.
 *
 * <pre>{@code
 * ActivationCache cache = new ActivationCache();
 * model.forward(batch, new Hooks().cache(cache, "blocks.3.hook_resid_post", "blocks.3.attn.hook_z"));
 * FloatTensor resid = cache.get("blocks.3.hook_resid_post", 0);   // [pos, d_model] of row 0
 * FloatTensor z = cache.get("blocks.3.attn.hook_z", 0);            // [pos, heads, d_head]
 * }</pre>
 */
public final class ActivationCache {
    private record Entry(int tokenIndex, float[] values) { }

    private static final class Store {
        final HookPoint point;
        final int heads;
        final Map<Integer, List<Entry>> rows = new LinkedHashMap<>();

        Store(HookPoint point, int heads) {
            this.point = point;
            this.heads = heads;
        }
    }

    private final Map<String, Store> stores = new LinkedHashMap<>();

    /** Hook points that have values. */
    public synchronized Set<String> names() {
        return Set.copyOf(stores.keySet());
    }

    /** True when {@code name} has values for {@code row}. */
    public synchronized boolean contains(String name, int row) {
        Store s = stores.get(name);
        return s != null && s.rows.containsKey(row);
    }

    /** Forgets everything. */
    public synchronized void clear() {
        stores.clear();
    }

    /** Copies the selected positions of {@code value} into the cache (every head). */
    synchronized void record(HookTensor value, Positions positions) {
        Store store = stores.computeIfAbsent(value.point().name(), n -> new Store(value.point(), value.heads()));
        int heads = value.heads();
        float[][] current = new float[1][];
        value.forEach(null, positions, (row, token, head, data, off, len) -> {
            if (head == 0) {
                current[0] = new float[heads * len];
                store.rows.computeIfAbsent(row, r -> new ArrayList<>()).add(new Entry(token, current[0]));
            }
            System.arraycopy(data, off, current[0], head * len, len);
        });
    }

    /** Token indices stored for {@code name} and {@code row}, in order. */
    public synchronized int[] tokenIndices(String name, int row) {
        return entries(name, row).stream().mapToInt(Entry::tokenIndex).toArray();
    }

    /**
     * The stored values of {@code name} for batch row {@code row}: [pos, d_model] for residual-stream points,
     * [pos, heads, d_head] for q, k, v and z, [heads, query, key] for the pattern, [pos, vocab] for logits.
     */
    public synchronized FloatTensor get(String name, int row) {
        List<Entry> entries = entries(name, row);
        Store store = stores.get(name);
        int n = entries.size();
        int len = entries.getFirst().values.length;
        for (Entry e : entries) {
            if (e.values.length != len) {
                throw new InvalidInputException("cache of " + name + " holds calls with different key lengths;"
                        + " clear the cache between calls to read the pattern");
            }
        }
        float[] flat = new float[n * len];
        for (int i = 0; i < n; i++) System.arraycopy(entries.get(i).values, 0, flat, i * len, len);
        int width = len / store.heads;
        if (store.point.kind() == HookPoint.Kind.PATTERN) {
            float[] t = new float[flat.length];   // [query, head, key] -> [head, query, key]
            for (int q = 0; q < n; q++)
                for (int h = 0; h < store.heads; h++)
                    System.arraycopy(flat, (q * store.heads + h) * width, t, (h * n + q) * width, width);
            return new FloatTensor(t, store.heads, n, width);
        }
        return store.point.kind().perHead() ? new FloatTensor(flat, n, store.heads, width)
                : new FloatTensor(flat, n, width);
    }

    /** Values of {@code name} for row 0 (single-sequence runs). */
    public FloatTensor get(String name) {
        return get(name, 0);
    }

    /** The vector stored for {@code name}, {@code row} at {@code tokenIndex}, all heads, or null. */
    synchronized float[] vectorAt(String name, int row, int tokenIndex) {
        Store s = stores.get(name);
        if (s == null || !s.rows.containsKey(row)) return null;
        for (Entry e : s.rows.get(row)) {
            if (e.tokenIndex == tokenIndex) return e.values;
        }
        return null;
    }

    /** Number of positions stored for {@code name}, {@code row}. */
    synchronized int length(String name, int row) {
        Store s = stores.get(name);
        return s == null || !s.rows.containsKey(row) ? 0 : s.rows.get(row).size();
    }

    private List<Entry> entries(String name, int row) {
        Store s = stores.get(name);
        if (s == null || !s.rows.containsKey(row)) {
            throw new InvalidInputException("activation cache has no values for " + name + " row " + row
                    + " (cached: " + stores.keySet() + ")");
        }
        return s.rows.get(row);
    }
}
