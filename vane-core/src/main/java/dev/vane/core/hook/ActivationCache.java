package dev.vane.core.hook;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.FloatTensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
    /**
     * One row's positions of one hook, back to back in one growing array: a cache refilled after
     * {@link #clear()} reuses it, so repeated extraction allocates nothing once the first run has sized it.
     */
    private static final class RowStore {
        int[] tokens = new int[16];
        int[] offsets = new int[17];
        float[] data = new float[0];
        int count;

        /** Starts position {@code token} of {@code width} values and returns where they go in {@link #data}. */
        int append(int token, int width) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
                offsets = Arrays.copyOf(offsets, count * 2 + 1);
            }
            int at = offsets[count];
            long need = (long) at + width;
            if (need > data.length) {
                if (need > Integer.MAX_VALUE - 16) {
                    throw new InvalidInputException("activation cache row exceeds 2^31 values; cache fewer points");
                }
                data = Arrays.copyOf(data, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, 2L * data.length)));
            }
            tokens[count] = token;
            offsets[++count] = at + width;
            return at;
        }

        int width(int i) {
            return offsets[i + 1] - offsets[i];
        }
    }

    private static final class Store {
        final HookPoint point;
        final int heads;
        final Map<Integer, RowStore> rows = new LinkedHashMap<>();

        Store(HookPoint point, int heads) {
            this.point = point;
            this.heads = heads;
        }

        RowStore filled(int row) {
            RowStore r = rows.get(row);
            return r == null || r.count == 0 ? null : r;
        }
    }

    private final Map<String, Store> stores = new LinkedHashMap<>();

    /** Hook points that have values. */
    public synchronized Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        stores.forEach((n, s) -> {
            if (s.rows.values().stream().anyMatch(r -> r.count > 0)) names.add(n);
        });
        return Set.copyOf(names);
    }

    /** True when {@code name} has values for {@code row}. */
    public synchronized boolean contains(String name, int row) {
        Store s = stores.get(name);
        return s != null && s.filled(row) != null;
    }

    /** Forgets every value; the storage is kept for the next calls to fill. */
    public synchronized void clear() {
        for (Store s : stores.values()) for (RowStore r : s.rows.values()) r.count = 0;
    }

    /** Copies the selected positions of {@code value} into the cache (every head). */
    synchronized void record(HookTensor value, Positions positions) {
        Store store = stores.computeIfAbsent(value.point().name(), n -> new Store(value.point(), value.heads()));
        int heads = value.heads();
        RowStore[] current = new RowStore[1];
        int[] base = new int[1];
        value.forEach(null, positions, (row, token, head, data, off, len) -> {
            if (head == 0) {
                current[0] = store.rows.computeIfAbsent(row, r -> new RowStore());
                base[0] = current[0].append(token, heads * len);
            }
            System.arraycopy(data, off, current[0].data, base[0] + head * len, len);
        });
    }

    /** Token indices stored for {@code name} and {@code row}, in order. */
    public synchronized int[] tokenIndices(String name, int row) {
        RowStore r = filled(name, row);
        return Arrays.copyOf(r.tokens, r.count);
    }

    /**
     * The stored values of {@code name} for batch row {@code row}: [pos, d_model] for residual-stream points,
     * [pos, heads, d_head] for q, k, v and z, [heads, query, key] for the pattern, [pos, vocab] for logits.
     */
    public synchronized FloatTensor get(String name, int row) {
        RowStore r = filled(name, row);
        Store store = stores.get(name);
        int n = r.count;
        int len = r.width(0);
        for (int i = 1; i < n; i++) {
            if (r.width(i) != len) {
                throw new InvalidInputException("cache of " + name + " holds calls with different key lengths;"
                        + " clear the cache between calls to read the pattern");
            }
        }
        float[] flat = Arrays.copyOf(r.data, n * len);
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
        RowStore r = s == null ? null : s.filled(row);
        if (r == null) return null;
        for (int i = 0; i < r.count; i++) {
            if (r.tokens[i] == tokenIndex) return Arrays.copyOfRange(r.data, r.offsets[i], r.offsets[i + 1]);
        }
        return null;
    }

    /** Number of positions stored for {@code name}, {@code row}. */
    synchronized int length(String name, int row) {
        Store s = stores.get(name);
        RowStore r = s == null ? null : s.filled(row);
        return r == null ? 0 : r.count;
    }

    private RowStore filled(String name, int row) {
        Store s = stores.get(name);
        RowStore r = s == null ? null : s.filled(row);
        if (r == null) {
            throw new InvalidInputException("activation cache has no values for " + name + " row " + row
                    + " (cached: " + names() + ")");
        }
        return r;
    }
}
