package dev.vane.core.model;

import dev.vane.core.InvalidInputException;

/**
 * Token ids for one forward call: one row per sequence, left-padded to a common length, as Hugging Face
 * batches them for generation. Position ids count from each row's first real token.
 *
 * <pre>{@code
 * Batch batch = Batch.of(new int[]{1, 306, 339}, new int[]{1, 519});   // second row gets one pad column
 * batch.padding(1);                                                    // 1
 * }</pre>
 *
 * @param tokens  [rows][columns] ids; padding columns hold {@code padId}
 * @param padding padding columns at the start of each row
 */
public record Batch(int[][] tokens, int[] padding) {

    /** Left-pads {@code sequences} (each non-empty) to the longest, padding with id 0. */
    public static Batch of(int[]... sequences) {
        if (sequences.length == 0) throw new InvalidInputException("a batch needs at least one sequence");
        int columns = 0;
        for (int[] s : sequences) {
            if (s.length == 0) throw new InvalidInputException("a sequence in the batch is empty");
            columns = Math.max(columns, s.length);
        }
        int[][] tokens = new int[sequences.length][columns];
        int[] padding = new int[sequences.length];
        for (int r = 0; r < sequences.length; r++) {
            padding[r] = columns - sequences[r].length;
            System.arraycopy(sequences[r], 0, tokens[r], padding[r], sequences[r].length);
        }
        return new Batch(tokens, padding);
    }

    /** One next token per row: the step of a batched generation. */
    public static Batch nextTokens(int... tokenPerRow) {
        int[][] tokens = new int[tokenPerRow.length][1];
        for (int r = 0; r < tokenPerRow.length; r++) tokens[r][0] = tokenPerRow[r];
        return new Batch(tokens, new int[tokenPerRow.length]);
    }

    public int rows() {
        return tokens.length;
    }

    public int columns() {
        return tokens[0].length;
    }

    /** Padding columns of {@code row}. */
    public int padding(int row) {
        return padding[row];
    }
}
