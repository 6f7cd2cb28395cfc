package dev.vane.core.model;

/** Which positions a forward call computes logits for. */
public enum LogitsMode {
    /** Every position: scoring, parity, per-token KL. */
    ALL,
    /** Only the last position of each row: generation (saves a [pos, vocab] product). */
    LAST,
    /** None: activation extraction. */
    NONE
}
