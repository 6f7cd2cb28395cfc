package dev.vane.train.run;

import dev.vane.train.grad.CrossEntropy;
import dev.vane.train.grad.Objective;

/**
 * What a {@link Trainer} minimises: for each micro-batch, the {@link Objective} that the backward pass scores its
 * logits with. {@link #CROSS_ENTROPY} is supervised fine-tuning; {@link ConstrainedLoss} is the token-wise
 * constrained objective, which also runs a frozen reference model on the micro-batch.
 *
 * <pre>{@code
 * TrainingLoss loss = new ConstrainedLoss(reference, ConstraintBetas.paper(), TokenwiseConstrained.MIN_WEIGHT);
 * Trainer trainer = new Trainer(state, plan, settings, Hooks.none(), loss);
 * }</pre>
 */
@FunctionalInterface
public interface TrainingLoss {
    /** Weighted cross-entropy of the trained tokens, a mean over the step's weight sum. */
    TrainingLoss CROSS_ENTROPY = (batch, norm) -> new CrossEntropy(batch.targets(), batch.weights(), norm);

    /**
     * The objective of one micro-batch.
     *
     * @param norm the whole step's weight sum, so that the step's loss is one mean whatever its micro-batches
     */
    Objective objective(ScoredBatch batch, double norm);
}
