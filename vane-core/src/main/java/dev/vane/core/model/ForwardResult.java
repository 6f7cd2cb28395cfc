package dev.vane.core.model;

import dev.vane.core.hook.CallLayout;
import dev.vane.core.tensor.FloatTensor;

import java.util.Arrays;

/**
 * What one forward call produced: logits for the positions asked for (see {@link LogitsMode}).
 * Activations go to the caches of the call's reading hooks.
 *
 * <p>The logits live in the KV cache's buffers, which the next call on the same cache reuses: read them (the
 * accessors copy) before continuing the sequence.
 *
 * <pre>{@code
 * ForwardResult out = model.forward(Batch.of(ids), new Hooks());
 * FloatTensor logits = out.logits(0);      // [pos, vocab] of row 0, padding removed
 * float[] next = out.lastLogits(0);        // [vocab] at the row's last position
 * }</pre>
 */
public final class ForwardResult {
    private final float[] logits;
    private final CallLayout call;
    private final LogitsMode mode;

    ForwardResult(float[] logits, CallLayout call, LogitsMode mode) {
        this.logits = logits;
        this.call = call;
        this.mode = mode;
    }

    /** Logits of {@code row} for its real positions in this call: [pos, vocab]. Needs {@link LogitsMode#ALL}. */
    public FloatTensor logits(int row) {
        if (mode != LogitsMode.ALL) throw new IllegalStateException("logits of every position need LogitsMode.ALL");
        int vocab = vocab();
        int pad = call.padding()[row];
        int n = call.columns() - pad;
        int from = (row * call.columns() + pad) * vocab;
        return new FloatTensor(Arrays.copyOfRange(logits, from, from + n * vocab), n, vocab);
    }

    /** Logits at the last position of {@code row}: the next-token distribution. */
    public float[] lastLogits(int row) {
        if (mode == LogitsMode.NONE) throw new IllegalStateException("no logits were computed (LogitsMode.NONE)");
        int vocab = vocab();
        int positions = mode == LogitsMode.LAST ? 1 : call.columns();
        int from = (row * positions + positions - 1) * vocab;
        return Arrays.copyOfRange(logits, from, from + vocab);
    }

    /** Copies the logits at the last position of {@code row} into {@code dst} (no allocation). */
    public void lastLogits(int row, float[] dst) {
        if (mode == LogitsMode.NONE) throw new IllegalStateException("no logits were computed (LogitsMode.NONE)");
        int vocab = vocab();
        int positions = mode == LogitsMode.LAST ? 1 : call.columns();
        System.arraycopy(logits, (row * positions + positions - 1) * vocab, dst, 0, vocab);
    }

    /** How the call's columns map to token positions. */
    public CallLayout layout() {
        return call;
    }

    private int vocab() {
        int positions = mode == LogitsMode.LAST ? 1 : call.columns();
        return logits.length / (call.rows() * positions);
    }
}
