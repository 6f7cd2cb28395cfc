package dev.vane.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.Model;
import dev.vane.core.model.TrainingTape;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.train.data.StepPlan;
import dev.vane.train.data.TrainingExample;
import dev.vane.train.grad.Backward;
import dev.vane.train.grad.Objective;
import dev.vane.train.grad.TokenwiseConstrained;
import dev.vane.train.optim.AdamW;
import dev.vane.train.optim.GradientClipping;
import dev.vane.train.optim.LrSchedule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Supervised training, one optimiser step at a time: the step's examples (from a {@link StepPlan}) in
 * length-bucketed micro-batches, each a training forward and a backward whose gradients accumulate, the loss
 * being the mean over every trained token of the step; then clipping by global norm, AdamW at the schedule's
 * learning rate, and the new values published to the model. The loss is cross-entropy unless another
 * {@link TrainingLoss} is given (the token-wise constrained objective, {@link ConstrainedLoss}).
 *
 * <p>Everything a step does is a function of the step number and the seed (the plan's order, the dropout
 * masks), so a run restored from a checkpoint ({@link #save}, {@link #restore}) continues exactly as the
 * uninterrupted run would.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(state, plan, settings, Hooks.none());
 * for (long s = 0; s < steps; s++) {
 *     Trainer.StepMetrics m = trainer.step(s);
 *     System.out.println(m.step() + " " + m.loss());
 * }
 * state.export(Path.of("adapter"));
 * }</pre>
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param microTokens padded tokens per micro-batch (bounds activation memory)
     * @param clip        maximum global gradient norm, 0 for no clipping
     * @param recompute   activation checkpointing: keep block inputs only and recompute in the backward
     * @param seed        seed of the dropout masks
     * @param schedule    learning rate by step
     * @param optimizer   AdamW's settings
     */
    public record Settings(int microTokens, double clip, boolean recompute, long seed, LrSchedule schedule,
                           AdamW.Settings optimizer) {
    }

    /**
     * One optimiser step's figures.
     *
     * @param step          0-based step number
     * @param loss          the objective's loss over the step's trained tokens (for cross-entropy: its mean)
     * @param crossEntropy  mean cross-entropy over the step's trained tokens (equals {@code loss} for cross-entropy)
     * @param meanWeight    mean per-token weight of the constrained objective; 1 for cross-entropy
     * @param lr            learning rate used
     * @param gradNorm      global gradient norm before clipping
     * @param tokens        tokens processed (padding excluded)
     * @param trainedTokens tokens with a non-zero loss weight
     * @param seconds       wall time of the step
     */
    public record StepMetrics(long step, double loss, double crossEntropy, double meanWeight, double lr, double gradNorm,
                              long tokens, long trainedTokens, double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(1e-9, seconds);
        }
    }

    private final TrainableState state;
    private final StepPlan plan;
    private final Settings settings;
    private final Hooks hooks;
    private final TrainingLoss loss;
    private final AdamW optimizer;

    /** A trainer minimising cross-entropy. */
    public Trainer(TrainableState state, StepPlan plan, Settings settings, Hooks hooks) {
        this(state, plan, settings, hooks, TrainingLoss.CROSS_ENTROPY);
    }

    /** A trainer minimising {@code loss}. */
    public Trainer(TrainableState state, StepPlan plan, Settings settings, Hooks hooks, TrainingLoss loss) {
        this.state = state;
        this.plan = plan;
        this.settings = settings;
        this.hooks = hooks;
        this.loss = loss;
        this.optimizer = new AdamW(state.parameters(), settings.optimizer());
    }

    /** Runs optimiser step {@code step} (0-based): forward, backward, clip, AdamW, publish. */
    public StepMetrics step(long step) {
        long start = System.nanoTime();
        Model model = state.model();
        List<TrainingExample> examples = plan.step(step);
        double norm = StepPlan.weightSum(examples);
        double value = 0, crossEntropy = 0, weightSum = 0;
        long tokens = 0, trained = 0;
        if (norm > 0) {
            List<List<TrainingExample>> micro = StepPlan.microBatches(examples, settings.microTokens());
            for (int m = 0; m < micro.size(); m++) {
                ScoredBatch scored = ScoredBatch.of(micro.get(m));
                // The objective first: a constrained one runs the reference's forward, which must not overlap the
                // training forward's tape.
                Objective objective = loss.objective(scored, norm);
                TrainingTape tape = new TrainingTape(settings.recompute(), dropoutSeed(step, m));
                model.forwardForTraining(scored.batch(), hooks, tape);
                double l = Backward.run(model, tape, scored.positions(), objective, state.gradients());
                value += l;
                if (objective instanceof TokenwiseConstrained c) {
                    crossEntropy += c.crossEntropy();
                    weightSum += c.weightSum();
                } else {
                    crossEntropy += l;
                    for (float w : scored.weights()) weightSum += w / norm;      // c = 1 for every token
                }
                tokens += scored.tokens();
                trained += scored.size();
            }
        }
        double gradNorm = settings.clip() > 0
                ? GradientClipping.clipByGlobalNorm(optimizer.grads(), settings.clip())
                : GradientClipping.globalNorm(optimizer.grads());
        double lr = settings.schedule().lr(step);
        if (norm > 0) {
            optimizer.step(lr);
            state.publish();
        }
        optimizer.zeroGrads();
        // The micro-batches' sums of w c / norm add up to the step's mean weight: the w / norm sum to 1.
        double meanWeight = norm > 0 ? weightSum : Double.NaN;
        return new StepMetrics(step, value, crossEntropy, meanWeight, lr, gradNorm, tokens, trained,
                (System.nanoTime() - start) / 1e9);
    }

    private long dropoutSeed(long step, int micro) {
        long h = settings.seed() * 0x9E3779B97F4A7C15L + step * 0xC2B2AE3D27D4EB4FL + micro;
        return h ^ (h >>> 31);
    }

    /** Mean cross-entropy over the trained tokens of {@code examples}, by an ordinary forward (no gradients). */
    public double evalLoss(List<TrainingExample> examples) {
        return evalLoss(state.model(), hooks, examples, settings.microTokens());
    }

    /** As {@link #evalLoss(List)} for any model. */
    public static double evalLoss(Model model, Hooks hooks, List<TrainingExample> examples, int microTokens) {
        double sum = 0, weights = 0;
        int vocab = model.config().vocabSize();
        for (List<TrainingExample> micro : StepPlan.microBatches(examples, microTokens)) {
            ScoredBatch scored = ScoredBatch.of(micro);
            ForwardResult out = model.forward(scored.batch(), hooks);
            int columns = scored.batch().columns();
            for (int r = 0; r < micro.size(); r++) {
                FloatTensor logits = out.logits(r);
                int pad = scored.batch().padding(r);
                TrainingExample ex = micro.get(r);
                float[] data = logits.data();
                for (int i = 1; i < ex.length(); i++) {
                    if (ex.weights()[i] == 0f) continue;
                    int off = (i - 1) * vocab;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) max = Math.max(max, data[off + v]);
                    double z = 0;
                    for (int v = 0; v < vocab; v++) z += Math.exp(data[off + v] - max);
                    sum += ex.weights()[i] * (max + Math.log(z) - data[off + ex.tokens()[i]]);
                    weights += ex.weights()[i];
                }
                assert pad + ex.length() == columns;
            }
        }
        return weights == 0 ? Double.NaN : sum / weights;
    }

    /**
     * Writes a checkpoint after {@code stepsDone} steps into {@code dir} (which must not exist): the trainable
     * values, the optimiser's moments and step count, and {@code trainer.json} (steps done, seed: the data
     * position and every random draw follow from them).
     */
    public void save(Path dir, long stepsDone) throws IOException {
        Files.createDirectories(dir);
        state.save(dir);
        optimizer.save(dir.resolve("optimizer.safetensors"));
        ObjectNode meta = JSON.createObjectNode();
        meta.put("steps_done", stepsDone);
        meta.put("seed", settings.seed());
        meta.put("data_position", "step " + stepsDone + " of the seeded plan (epoch " + plan.epochOf(stepsDone) + ")");
        Files.writeString(dir.resolve("trainer.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
    }

    /** Restores a checkpoint written by {@link #save}; returns the number of steps it had done. */
    public long restore(Path dir) {
        Path meta = dir.resolve("trainer.json");
        JsonNode node;
        try {
            node = JSON.readTree(meta.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(meta, "unreadable checkpoint: " + e.getMessage());
        }
        if (node == null || !node.path("steps_done").canConvertToLong() || node.path("seed").asLong() != settings.seed()) {
            throw new InvalidInputException(meta, "not a checkpoint of this run (steps_done missing or another seed)");
        }
        state.load(dir);
        optimizer.load(dir.resolve("optimizer.safetensors"));
        long done = node.get("steps_done").asLong();
        if (optimizer.steps() > done) {
            throw new InvalidInputException(meta, "the optimiser state has " + optimizer.steps() + " steps, more than "
                    + done + " steps done");
        }
        return done;
    }

    public TrainableState state() {
        return state;
    }
}
