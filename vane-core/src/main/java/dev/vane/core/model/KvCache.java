package dev.vane.core.model;

import dev.vane.core.InvalidInputException;

import java.util.List;

/**
 * Keys and values of every layer for the tokens processed so far, preallocated for {@code capacity} columns
 * so that generation appends without allocating. Layout per layer: [row, kv_head, column, d_head].
 *
 * <p>Columns are shared by all rows; each row's left padding (from its first call) stays masked.
 *
 * <pre>{@code
 * KvCache cache = model.newCache(2, 256);
 * model.forward(Batch.of(promptA, promptB), Hooks.none(), cache, LogitsMode.LAST);
 * model.forward(Batch.nextTokens(tokA, tokB), Hooks.none(), cache, LogitsMode.LAST);
 * }</pre>
 */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    private final int rows;
    private final int capacity;
    private final int kvHeads;
    private final int headDim;
    private int length;
    private int[] padding;
    private Workspace workspace;

    public KvCache(ModelConfig config, int rows, int capacity) {
        if (rows <= 0 || capacity <= 0) throw new IllegalArgumentException("rows and capacity must be positive");
        this.rows = rows;
        this.capacity = capacity;
        this.kvHeads = config.kvHeads();
        this.headDim = config.headDim();
        long perLayer = (long) rows * kvHeads * capacity * headDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException("KV cache of " + rows + " rows x " + capacity
                    + " positions is too large for one array per layer; use fewer rows or a shorter context");
        }
        this.keys = new float[config.layers()][(int) perLayer];
        this.values = new float[config.layers()][(int) perLayer];
    }

    /** Columns filled so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int rows() {
        return rows;
    }

    /** Bytes held by the keys and values (the whole capacity, filled or not). */
    public long byteSize() {
        return 2L * keys.length * keys[0].length * Float.BYTES;
    }

    /** Real tokens (padding excluded) of {@code row} held so far: its sequence length. */
    public int tokens(int row) {
        if (row < 0 || row >= rows) throw new IllegalArgumentException("row " + row + " of a " + rows + "-row cache");
        return padding == null ? 0 : length - padding[row];
    }

    /** Padding columns of each row (zero before the first call). */
    public int[] padding() {
        return padding == null ? new int[rows] : padding.clone();
    }

    /** Forgets all tokens so the cache can serve a new batch of the same size. */
    public void clear() {
        length = 0;
        padding = null;
    }

    /**
     * Drops every column from {@code length} on, keeping the first {@code length} (a shared prefix such as a
     * long prompt can then be continued several ways without recomputing it).
     */
    public void truncate(int length) {
        if (length < 0 || length > this.length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + this.length + " columns to " + length);
        }
        if (padding != null) {
            for (int p : padding) {
                if (length > 0 && length < p) throw new IllegalArgumentException("truncation inside a row's padding");
            }
        }
        this.length = length;
        if (length == 0) padding = null;
    }

    /** One sequence held in a cache: batch row {@code row} of {@code cache}. */
    public record Row(KvCache cache, int row) {
        public Row {
            if (row < 0 || row >= cache.rows) {
                throw new IllegalArgumentException("row " + row + " of a " + cache.rows + "-row cache");
            }
        }
    }

    /**
     * A new cache holding the given sequences, one batch row each in the order given, so that sequences prefilled
     * in different calls can continue decoding together (continuous batching joins new requests this way and
     * drops finished ones). Each sequence is copied right-aligned: its tokens end at the new cache's last column
     * and the columns before them become its left padding, so its token positions (and RoPE angles) are
     * unchanged. The new cache is as long as the longest sequence; {@code capacity} leaves room for the tokens
     * still to come.
     *
     * <pre>{@code
     * KvCache running = ...;                      // 3 sequences decoding
     * KvCache joined = model.newCache(1, 40);     // a new prompt, prefilled alone
     * model.forward(Batch.of(prompt), hooks, joined, LogitsMode.LAST);
     * KvCache next = KvCache.merge(model.config(),
     *         List.of(new Row(running, 0), new Row(running, 2), new Row(joined, 0)), 200);   // row 1 finished
     * model.forward(Batch.nextTokens(a, c, d), hooks, next, LogitsMode.LAST);
     * }</pre>
     *
     * @throws IllegalArgumentException if a row holds no tokens, a cache was made for another model shape, or
     *                                  the longest sequence exceeds {@code capacity}
     */
    public static KvCache merge(ModelConfig config, List<Row> sequences, int capacity) {
        if (sequences.isEmpty()) throw new IllegalArgumentException("nothing to merge");
        int length = 0;
        for (Row s : sequences) {
            int n = s.cache().tokens(s.row());
            if (n == 0) throw new IllegalArgumentException("row " + s.row() + " of a cache to merge holds no tokens");
            length = Math.max(length, n);
        }
        if (length > capacity) {
            throw new IllegalArgumentException("sequences of " + length + " tokens do not fit a capacity of " + capacity);
        }
        KvCache merged = new KvCache(config, sequences.size(), capacity);
        merged.length = length;
        merged.padding = new int[sequences.size()];
        for (int r = 0; r < sequences.size(); r++) merged.replaceRow(r, sequences.get(r));
        return merged;
    }

    /**
     * Puts the sequence held in {@code source} into batch row {@code row} of this cache, in place of whatever the
     * row held, while the other rows keep their sequences: a finished sequence's row is refilled with a new one
     * that was prefilled apart. The sequence is copied right-aligned, ending at the current last column; the
     * columns before it become the row's padding, so its token positions are unchanged. Only this row's columns
     * are written.
     *
     * <pre>{@code
     * KvCache joined = model.newCache(1, prompt.length);
     * model.forward(Batch.of(prompt), hooks, joined, LogitsMode.LAST);
     * running.replaceRow(2, new KvCache.Row(joined, 0));      // row 2's sequence had finished
     * }</pre>
     *
     * @throws IllegalArgumentException if the sequence is longer than this cache's columns so far, holds no
     *                                  tokens, or comes from a cache of another model shape
     */
    public void replaceRow(int row, Row source) {
        if (row < 0 || row >= rows) throw new IllegalArgumentException("row " + row + " of a " + rows + "-row cache");
        KvCache from = source.cache();
        if (from.keys.length != keys.length || from.kvHeads != kvHeads || from.headDim != headDim) {
            throw new IllegalArgumentException("the cache to copy from was made for another model shape");
        }
        int n = from.tokens(source.row());
        if (n == 0) throw new IllegalArgumentException("row " + source.row() + " of the source holds no tokens");
        if (n > length) {
            throw new IllegalArgumentException("a sequence of " + n + " tokens does not fit the " + length
                    + " columns filled so far");
        }
        padding[row] = length - n;
        for (int layer = 0; layer < keys.length; layer++) {
            for (int g = 0; g < kvHeads; g++) {
                int src = from.offset(source.row(), g, from.padding[source.row()]);
                int dst = offset(row, g, padding[row]);
                System.arraycopy(from.keys[layer], src, keys[layer], dst, n * headDim);
                System.arraycopy(from.values[layer], src, values[layer], dst, n * headDim);
            }
        }
    }

    /** Buffers for a call of {@code tokens} tokens: the previous call's when the size matches. */
    Workspace workspace(ModelConfig config, int tokens) {
        if (workspace == null || workspace.tokens != tokens) workspace = new Workspace(config, tokens);
        return workspace;
    }

    /** Offset of (row, kvHead, column) in a layer's array. */
    int offset(int row, int kvHead, int column) {
        return ((row * kvHeads + kvHead) * capacity + column) * headDim;
    }

    int[] paddingArray() {
        return padding;
    }

    /** Checks the call fits and returns how its columns map to token positions. */
    dev.vane.core.hook.CallLayout begin(Batch batch) {
        if (batch.rows() != rows) {
            throw new InvalidInputException("batch has " + batch.rows() + " rows but the KV cache was made for " + rows);
        }
        if (length + batch.columns() > capacity) {
            throw new InvalidInputException("sequence of " + (length + batch.columns())
                    + " columns does not fit the KV cache (" + capacity + ")");
        }
        int[] past = new int[rows];
        int[] callPadding;
        if (length == 0) {
            padding = batch.padding().clone();
            callPadding = padding.clone();
        } else {
            for (int r = 0; r < rows; r++) {
                if (batch.padding(r) != 0) {
                    throw new InvalidInputException("only the first call of a sequence may be padded");
                }
                past[r] = length - padding[r];
            }
            callPadding = new int[rows];
        }
        return new dev.vane.core.hook.CallLayout(callPadding, past, batch.columns());
    }

    /** Marks the call's columns as filled. */
    void commit(int columns) {
        length += columns;
    }
}
