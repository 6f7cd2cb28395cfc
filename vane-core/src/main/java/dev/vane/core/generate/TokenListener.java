package dev.vane.core.generate;

/**
 * Receives tokens as they are generated, for streaming. {@code text} is the new text that is final (held back
 * while it might still become part of a stop string or of an incomplete UTF-8 character).
 */
@FunctionalInterface
public interface TokenListener {
    void onToken(int row, int tokenId, String text);

    /** A listener that ignores everything. */
    static TokenListener none() {
        return (row, id, text) -> { };
    }
}
