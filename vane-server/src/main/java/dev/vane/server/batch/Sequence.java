package dev.vane.server.batch;

import dev.vane.core.generate.Sampler;
import dev.vane.core.generate.TextStream;
import dev.vane.core.tokenize.Tokenizer;

import dev.vane.lab.steer.GateReadings;

import java.util.Arrays;

/**
 * A sequence while the scheduler runs it: its sampler and text, the tokens so far, and the newest token,
 * which is sampled but not yet in the KV cache (the next step feeds it).
 */
final class Sequence implements SequenceHandle {
    final SequenceRequest request;
    /** What this sequence's gates read; it goes with the sequence from the prefill's cache into any batch row. */
    final GateReadings gates;
    private final Sampler sampler;
    private final TextStream text;
    private final int[] history;
    private final int maxNew;
    private int length;
    private int generated;
    private int pending = -1;
    private boolean finished;
    private volatile boolean cancelled;

    /** {@code maxNew} is the token budget after clipping to the model's context. */
    Sequence(SequenceRequest request, Tokenizer tokenizer, int maxNew) {
        this.request = request;
        this.gates = request.steering().newReadings();
        this.maxNew = maxNew;
        this.sampler = new Sampler(request.params(), request.params().seed());
        this.text = new TextStream(tokenizer, request.params().stopStrings(), Math.max(1, maxNew));
        this.history = Arrays.copyOf(request.prompt(), request.prompt().length + maxNew);
        this.length = request.prompt().length;
    }

    /**
     * Samples the next token from this step's logits (modified in place), tells the listener, and returns
     * whether the sequence goes on. {@code eos} are the end-of-sequence ids.
     */
    boolean advance(float[] logits, int[] eos) {
        TokenLogprobs logprobs = null;
        int top = request.topLogprobs();
        // Log-probabilities describe the model's distribution: taken before the sampler edits the logits.
        float[] raw = top >= 0 ? logits.clone() : null;
        int token = sampler.next(logits, history, length);
        if (raw != null) logprobs = TokenLogprobs.of(raw, token, top);
        history[length++] = token;
        generated++;
        String reason = null;
        String delta;
        if (isEos(token, eos)) {
            reason = "stop";
            delta = text.finish();
            // The end token is not part of the returned text, so it has no place in the text's log-probabilities.
            logprobs = null;
        } else {
            delta = text.add(token);
            if (text.stopped()) reason = "stop";
            else if (generated >= maxNew) reason = "length";
            if (reason != null) delta += text.finish();
        }
        request.listener().onToken(new GeneratedToken(token, delta, logprobs));
        if (reason != null) {
            finish(reason);
            return false;
        }
        pending = token;
        return true;
    }

    /** Tells the listener what the gates decided (after the prompt's call, where the probes read). */
    void reportGates() {
        if (request.steering().isGated() && !finished) request.listener().onGates(request.steering().decisions(gates));
    }

    /** Ends the sequence with OpenAI's finish reason (once). */
    void finish(String reason) {
        if (finished) return;
        finished = true;
        request.listener().onFinish(reason);
    }

    /** Ends the sequence with an error (once). */
    void fail(RuntimeException e) {
        if (finished) return;
        finished = true;
        request.listener().onError(e);
    }

    /** The sampled token that the next step must feed. */
    int pending() {
        return pending;
    }

    /** Tokens that may still be fed into the cache after the current one. */
    int remaining() {
        return maxNew - generated;
    }

    boolean finished() {
        return finished;
    }

    /** True when the sequence needs no more steps: finished, or its client went away. */
    boolean done() {
        return finished || cancelled;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    private static boolean isEos(int token, int[] eos) {
        for (int id : eos) if (id == token) return true;
        return false;
    }
}
