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
    /** Columns with logits at the end of each row (all of them for ALL, 1 for LAST). */
    private final int positions;

    ForwardResult(float[] logits, CallLayout call, int positions) {
        this.logits = logits;
        this.call = call;
        this.positions = positions;
    }

    /** Logits of {@code row} for its real positions in this call: [pos, vocab]. Needs {@link LogitsMode#ALL}. */
    public FloatTensor logits(int row) {
        if (positions != call.columns()) throw new IllegalStateException("logits of every position need LogitsMode.ALL");
        int vocab = vocab();
        int pad = call.padding()[row];
        int n = call.columns() - pad;
        int from = (row * call.columns() + pad) * vocab;
        return new FloatTensor(Arrays.copyOfRange(logits, from, from + n * vocab), n, vocab);
    }

    /**
     * Logits of the last {@code n} columns of {@code row}, [n, vocab], from a call that computed at least that
     * many ({@link Model#forward(Batch, Hooks, KvCache, int)}, or ALL).
     */
    public FloatTensor tailLogits(int row, int n) {
        if (n > positions) throw new IllegalStateException("the call computed logits for " + positions + " columns, not " + n);
        int vocab = vocab();
        int from = (row * positions + positions - n) * vocab;
        return new FloatTensor(Arrays.copyOfRange(logits, from, from + n * vocab), n, vocab);
    }

    /** Logits at the last position of {@code row}: the next-token distribution. */
    public float[] lastLogits(int row) {
        if (positions == 0) throw new IllegalStateException("no logits were computed (LogitsMode.NONE)");
        int vocab = vocab();
        int from = (row * positions + positions - 1) * vocab;
        return Arrays.copyOfRange(logits, from, from + vocab);
    }

    /** Copies the logits at the last position of {@code row} into {@code dst} (no allocation). */
    public void lastLogits(int row, float[] dst) {
        if (positions == 0) throw new IllegalStateException("no logits were computed (LogitsMode.NONE)");
        int vocab = vocab();
        System.arraycopy(logits, (row * positions + positions - 1) * vocab, dst, 0, vocab);
    }

    /** How the call's columns map to token positions. */
    public CallLayout layout() {
        return call;
    }

    private int vocab() {
        return logits.length / (call.rows() * positions);
    }
}
