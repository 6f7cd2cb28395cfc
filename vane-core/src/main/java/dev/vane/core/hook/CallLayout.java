package dev.vane.core.hook;

/**
 * How the columns of one forward call map to token positions of each batch row.
 *
 * <p>Rows are left-padded: columns {@code [0, padding[row])} of the call are padding, the rest are tokens
 * {@code pastTokens[row]}, {@code pastTokens[row] + 1}, ... of that row's sequence. Only the first call of a
 * sequence (the prefill) has padding; later calls continue every row from its cached tokens.
 *
 * @param padding    padding columns at the start of this call, per row
 * @param pastTokens real tokens of each row already processed by earlier calls (in the KV cache)
 * @param columns    columns in this call (the same for every row)
 */
public record CallLayout(int[] padding, int[] pastTokens, int columns) {

    /** Number of batch rows. */
    public int rows() {
        return padding.length;
    }

    /** The token index at {@code column} of {@code row}, or -1 for padding. */
    public int tokenIndex(int row, int column) {
        return column < padding[row] ? -1 : pastTokens[row] + column - padding[row];
    }

    /** Length of {@code row}'s sequence after this call. */
    public int rowLength(int row) {
        return pastTokens[row] + columns - padding[row];
    }
}
