package dev.vane.train.grad;

/**
 * What a backward pass minimises, given the logits at the positions it scores: returns the loss and writes
 * dLoss/dLogits. Cross-entropy on chosen tokens is {@link CrossEntropy}; token-wise constrained objectives
 * supply their own weights.
 *
 * <pre>{@code
 * Objective ce = new CrossEntropy(targets, weights, normalizer);
 * double loss = ce.lossAndGradient(logits, positions, vocab, dLogits);
 * }</pre>
 */
@FunctionalInterface
public interface Objective {
    /**
     * @param logits    [positions, vocab], as the model outputs them (after any final soft-capping)
     * @param positions number of scored positions
     * @param vocab     vocabulary size
     * @param dLogits   [positions, vocab], to be filled with dLoss/dLogits
     * @return the loss
     */
    double lossAndGradient(float[] logits, int positions, int vocab, float[] dLogits);
}
