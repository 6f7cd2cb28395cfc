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
import dev.vane.train.grad.CrossEntropy;
import dev.vane.train.optim.AdamW;
import dev.vane.train.optim.GradientClipping;
import dev.vane.train.optim.LrSchedule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Supervised training, one optimiser step at a time: the step's examples (from a {@link StepPlan}) in
 * length-bucketed micro-batches, each a training forward and a backward whose gradients accumulate, the loss
 * being the mean over every trained token of the step; then clipping by global norm, AdamW at the schedule's
 * learning rate, and the new values published to the model.
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
     * @param loss          mean cross-entropy over the step's trained tokens
     * @param lr            learning rate used
     * @param gradNorm      global gradient norm before clipping
     * @param tokens        tokens processed (padding excluded)
     * @param trainedTokens tokens with a non-zero loss weight
     * @param seconds       wall time of the step
     */
    public record StepMetrics(long step, double loss, double lr, double gradNorm, long tokens, long trainedTokens,
                              double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(1e-9, seconds);
        }
    }

    private final TrainableState state;
    private final StepPlan plan;
    private final Settings settings;
    private final Hooks hooks;
    private final AdamW optimizer;

    public Trainer(TrainableState state, StepPlan plan, Settings settings, Hooks hooks) {
        this.state = state;
        this.plan = plan;
        this.settings = settings;
        this.hooks = hooks;
        this.optimizer = new AdamW(state.parameters(), settings.optimizer());
    }

    /** Runs optimiser step {@code step} (0-based): forward, backward, clip, AdamW, publish. */
    public StepMetrics step(long step) {
        long start = System.nanoTime();
        Model model = state.model();
        List<TrainingExample> examples = plan.step(step);
        double norm = StepPlan.weightSum(examples);
        double loss = 0;
        long tokens = 0, trained = 0;
        if (norm > 0) {
            List<List<TrainingExample>> micro = StepPlan.microBatches(examples, settings.microTokens());
            for (int m = 0; m < micro.size(); m++) {
                Scored scored = Scored.of(micro.get(m));
                TrainingTape tape = new TrainingTape(settings.recompute(), dropoutSeed(step, m));
                model.forwardForTraining(scored.batch, hooks, tape);
                loss += Backward.run(model, tape, scored.positions,
                        new CrossEntropy(scored.targets, scored.weights, norm), state.gradients());
                tokens += scored.tokens;
                trained += scored.positions.length;
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
        return new StepMetrics(step, loss, lr, gradNorm, tokens, trained, (System.nanoTime() - start) / 1e9);
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
            Scored scored = Scored.of(micro);
            ForwardResult out = model.forward(scored.batch, hooks);
            int columns = scored.batch.columns();
            for (int r = 0; r < micro.size(); r++) {
                FloatTensor logits = out.logits(r);
                int pad = scored.batch.padding(r);
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

    /** A micro-batch as a left-padded batch and the flat positions it scores. */
    private record Scored(Batch batch, int[] positions, int[] targets, float[] weights, long tokens) {
        static Scored of(List<TrainingExample> examples) {
            int[][] seqs = new int[examples.size()][];
            long tokens = 0;
            for (int i = 0; i < seqs.length; i++) {
                seqs[i] = examples.get(i).tokens();
                tokens += seqs[i].length;
            }
            Batch batch = Batch.of(seqs);
            int columns = batch.columns();
            List<int[]> at = new ArrayList<>();
            List<Float> w = new ArrayList<>();
            for (int r = 0; r < seqs.length; r++) {
                TrainingExample ex = examples.get(r);
                int pad = batch.padding(r);
                for (int i = 1; i < ex.length(); i++) {
                    if (ex.weights()[i] == 0f) continue;
                    at.add(new int[]{r * columns + pad + i - 1, ex.tokens()[i]});
                    w.add(ex.weights()[i]);
                }
            }
            int[] positions = new int[at.size()], targets = new int[at.size()];
            float[] weights = new float[at.size()];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = at.get(i)[0];
                targets[i] = at.get(i)[1];
                weights[i] = w.get(i);
            }
            return new Scored(batch, positions, targets, weights, tokens);
        }
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
