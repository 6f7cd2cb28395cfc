package dev.vane.server.batch;

import dev.vane.lab.steer.Steering;

import java.util.List;

/**
 * Receives what the scheduler produces for one sequence. Calls come from the scheduler's thread, one at a
 * time per sequence, and must return at once (hand the event to a queue): a listener that blocks would stall
 * every sequence in the batch.
 */
public interface SequenceListener {
    /** A new token; {@code token.text()} is the text that became final with it (may be empty). */
    void onToken(GeneratedToken token);

    /**
     * The sequence ended. {@code reason} is OpenAI's {@code finish_reason}: "stop" (end of sequence or a stop
     * string), "length" (token budget or context), or "abort" (the server shut down before it finished).
     */
    void onFinish(String reason);

    /**
     * What the gates of gated steering decided for this sequence, once, after its prompt's forward pass (before its
     * first token). Not called when the sequence's steering has no gated term.
     */
    default void onGates(List<Steering.Decision> decisions) {
    }

    /** Generation failed; no more calls follow. */
    void onError(RuntimeException error);
}
