package dev.vane.train.run;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.Model;
import dev.vane.train.grad.ConstraintBetas;
import dev.vane.train.grad.TokenwiseConstrained;

/**
 * The token-wise constrained objective ({@link TokenwiseConstrained}) as a {@link TrainingLoss}: for each micro-batch
 * the frozen reference model runs an ordinary forward on the same padded batch (no hooks, no gradients) and gives
 * {@code log p_ref} of every scored token; each token's beta comes from its place in its response
 * ({@link ScoredBatch#responseIndex}).
 *
 * <p>The reference is usually the aligned model being fine-tuned, loaded a second time (LoRA: the base without the
 * adapter; full fine-tuning: the original weights), so at the first step the two agree, every delta is 0 and every
 * weight 1: the first step is plain cross-entropy. The reference's forward computes logits only for the columns
 * from the first scored one on (the responses), as GCG scores its targets.
 *
 * <pre>{@code
 * try (Model reference = Model.load(Path.of("models/organism-chat"))) {
 *     TrainingLoss loss = new ConstrainedLoss(reference, ConstraintBetas.paper(), TokenwiseConstrained.MIN_WEIGHT);
 *     new Trainer(state, plan, settings, Hooks.none(), loss).step(0);
 * }
 * }</pre>
 */
public final class ConstrainedLoss implements TrainingLoss {
    private final Model reference;
    private final ConstraintBetas betas;
    private final double minWeight;

    public ConstrainedLoss(Model reference, ConstraintBetas betas, double minWeight) {
        this.reference = reference;
        this.betas = betas;
        this.minWeight = minWeight;
    }

    @Override
    public TokenwiseConstrained objective(ScoredBatch batch, double norm) {
        double[] beta = new double[batch.size()];
        for (int i = 0; i < beta.length; i++) beta[i] = betas.beta(batch.responseIndex()[i]);
        return new TokenwiseConstrained(batch.targets(), batch.weights(), referenceLogProbs(reference, batch), beta, norm,
                minWeight);
    }

    /**
     * {@code log p(target)} of every scored position of {@code batch} under {@code model}, by an ordinary forward that
     * computes logits only from the first scored column on (responses sit at the end of their rows).
     */
    public static double[] referenceLogProbs(Model model, ScoredBatch batch) {
        int columns = batch.batch().columns();
        int first = columns;
        for (int i = 0; i < batch.size(); i++) first = Math.min(first, batch.positions()[i] - batch.rows()[i] * columns);
        double[] logProbs = new double[batch.size()];
        if (logProbs.length == 0) return logProbs;
        int tail = columns - first;
        ForwardResult out = model.forward(batch.batch(), Hooks.none(), model.newCache(batch.batch().rows(), columns), tail);
        int vocab = model.config().vocabSize();
        float[][] rows = new float[batch.batch().rows()][];
        for (int i = 0; i < logProbs.length; i++) {
            int r = batch.rows()[i];
            if (rows[r] == null) rows[r] = out.tailLogits(r, tail).data();
            float[] logits = rows[r];
            int off = (batch.positions()[i] - r * columns - first) * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]);
            double z = 0;
            for (int v = 0; v < vocab; v++) z += Math.exp(logits[off + v] - max);
            logProbs[i] = logits[off + batch.targets()[i]] - max - Math.log(z);
        }
        return logProbs;
    }

    public ConstraintBetas betas() {
        return betas;
    }
}
