package dev.vane.core.hook;

/**
 * The value at a hook point during one forward call, for every row of the batch: a view over the engine's
 * own buffer, so reading copies only what a hook asks for and editing changes the forward pass in place.
 *
 * <p>The value is a grid of vectors indexed by (row, position, head): residual-stream points have one "head"
 * whose vector is [d_model]; q, k, v and z have a [d_head] vector per head; the attention pattern has a
 * vector of key probabilities per (row, head, query position). Padding positions are never visited, and for
 * the pattern only the row's real keys are part of each vector.
 *
 * <pre>{@code
 * HookFunction doubleHead3 = value -> value.forEach(new int[]{3}, Positions.all(), (row, token, head, data, off, len) -> {
 *     for (int i = 0; i < len; i++) data[off + i] *= 2;
 * });
 * }</pre>
 */
public final class HookTensor {
    private final HookPoint point;
    private final float[] data;
    private final CallLayout layout;
    private final int positions;
    private final int firstColumn;
    private final int heads;
    private final int width;
    private final int rowStride;
    private final int positionStride;
    private final int headStride;
    private final int[] keyPadding;

    /**
     * A view over {@code data} where vector (row, pos, head) starts at
     * {@code row * rowStride + pos * positionStride + head * headStride} and has {@code width} values.
     * {@code pos} counts from call column {@code firstColumn} (non-zero when only the last position was
     * computed). {@code keyPadding} (pattern only, else null) is the number of padded key columns per row.
     */
    public HookTensor(HookPoint point, float[] data, CallLayout layout, int positions, int firstColumn,
                      int heads, int width, int rowStride, int positionStride, int headStride, int[] keyPadding) {
        this.point = point;
        this.data = data;
        this.layout = layout;
        this.positions = positions;
        this.firstColumn = firstColumn;
        this.heads = heads;
        this.width = width;
        this.rowStride = rowStride;
        this.positionStride = positionStride;
        this.headStride = headStride;
        this.keyPadding = keyPadding;
    }

    /** Called for each selected vector; {@code data[offset, offset + length)} is the vector. */
    @FunctionalInterface
    public interface VectorVisitor {
        void visit(int row, int tokenIndex, int head, float[] data, int offset, int length);
    }

    public HookPoint point() {
        return point;
    }

    public int rows() {
        return layout.rows();
    }

    /** Heads per position (1 for residual-stream points and logits). */
    public int heads() {
        return heads;
    }

    /** Length of each vector (d_model, d_head, vocab; for the pattern the key count including padding). */
    public int width() {
        return width;
    }

    /** Length of {@code row}'s sequence after this call. */
    public int rowLength(int row) {
        return layout.rowLength(row);
    }

    /**
     * Visits the vectors at the selected heads ({@code null} = all) and positions, in order of row, position,
     * head. Unknown head indices fail with a message naming the hook.
     */
    public void forEach(int[] selectedHeads, Positions selected, VectorVisitor visitor) {
        if (selectedHeads != null) {
            for (int h : selectedHeads) {
                if (h < 0 || h >= heads) {
                    throw new dev.vane.core.InvalidInputException("hook " + point.name() + ": head " + h
                            + " does not exist (" + heads + " heads)");
                }
            }
        }
        for (int row = 0; row < layout.rows(); row++) {
            int length = layout.rowLength(row);
            int skip = keyPadding == null ? 0 : keyPadding[row];
            for (int p = 0; p < positions; p++) {
                int token = layout.tokenIndex(row, firstColumn + p);
                if (token < 0 || !selected.contains(row, token, length)) continue;
                int base = row * rowStride + p * positionStride + skip;
                if (selectedHeads == null) {
                    for (int h = 0; h < heads; h++) visitor.visit(row, token, h, data, base + h * headStride, width - skip);
                } else {
                    for (int h : selectedHeads) visitor.visit(row, token, h, data, base + h * headStride, width - skip);
                }
            }
        }
    }

    /** Checks that a vector given for this point has the right length. */
    void requireWidth(float[] vector, String what) {
        if (vector.length != width) {
            throw new dev.vane.core.InvalidInputException("hook " + point.name() + ": " + what + " has "
                    + vector.length + " values but the activation's " + (heads > 1 ? "heads have " : "vectors have ")
                    + width);
        }
    }
}
