package dev.vane.core.model;

import dev.vane.core.InvalidInputException;

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
