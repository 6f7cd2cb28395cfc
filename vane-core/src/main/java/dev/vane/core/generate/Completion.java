package dev.vane.core.generate;

/**
 * One generated continuation.
 *
 * @param promptTokens number of prompt tokens
 * @param tokenIds     generated token ids (an end-of-sequence token that stopped it included)
 * @param text         generated text, special tokens left out, cut before any stop string
 * @param finishReason why generation stopped
 */
public record Completion(int promptTokens, int[] tokenIds, String text, FinishReason finishReason) {

    /** Why a sequence stopped. */
    public enum FinishReason {
        /** An end-of-sequence token or a stop string. */
        STOP,
        /** The token budget or the model's context ran out. */
        LENGTH;

        /** "stop" or "length", as OpenAI's API spells it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
