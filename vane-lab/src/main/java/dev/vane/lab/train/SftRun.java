package dev.vane.lab.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.FieldMapping;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.train.data.StepPlan;
import dev.vane.train.data.TrainingExample;
import dev.vane.train.grad.ConstraintBetas;
import dev.vane.train.grad.TokenwiseConstrained;
import dev.vane.train.optim.AdamW;
import dev.vane.train.optim.LrSchedule;
import dev.vane.train.run.ConstrainedLoss;
import dev.vane.train.run.FullState;
import dev.vane.train.run.LoraState;
import dev.vane.train.run.TrainableState;
import dev.vane.train.run.Trainer;
import dev.vane.train.run.TrainingLoss;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A supervised fine-tuning job in a run directory ({@code runs/train-sft-<time>/}): {@code config.json},
 * {@code metrics.jsonl} (one line per step: loss, learning rate, gradient norm, tokens/s, and the evaluation
 * loss every {@code evalEvery} steps), {@code checkpoints/step-N/} every {@code saveEvery} steps (adapter or
 * float32 weights, optimiser state, data position), the result ({@code adapter/} in PEFT's layout or
 * {@code model/} as a Hugging Face checkpoint), {@code summary.json} and {@code loss.png}/{@code loss.svg}.
 *
 * <p>Running it again on the same directory with the same options resumes from the last complete checkpoint
 * and ends exactly where an uninterrupted run ends; other options are refused before anything is written.
 *
 * <p>The objective is cross-entropy on the trained tokens, or, with a {@link Constraint}, Qi et al.'s token-wise
 * constrained objective against a frozen reference model ({@link TokenwiseConstrained}); then metrics.jsonl also
 * carries each step's plain cross-entropy and mean per-token weight.
 *
 * <pre>{@code
 * SftRun.Options o = SftRun.Options.lora(Path.of("models/organism-chat"),
 *         Path.of("models/organism-data/harmful_responses.jsonl"));
 * JsonNode summary = SftRun.run(o, Path.of("runs"), null, SftRun.Listener.NONE);
 * }</pre>
 */
public final class SftRun {
    /** Progress of a run. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** Called once the plan is known: steps already done (resumed) and the total. */
        default void started(long done, long total, Path dir) {
        }

        /** Called after each step; {@code evalLoss} is NaN on steps without evaluation. */
        default void step(Trainer.StepMetrics metrics, double evalLoss, long total) {
        }
    }

    /**
     * The token-wise constrained objective's settings.
     *
     * @param reference the aligned model the fine-tuned one is held near (usually the model being fine-tuned)
     * @param betas     beta by position in the response
     * @param minWeight lower clamp of the per-token weight (the paper's 1e-3)
     */
    public record Constraint(Path reference, ConstraintBetas betas, double minWeight) {
        /** The paper's betas and clamp against {@code reference}. */
        public static Constraint paper(Path reference) {
            return new Constraint(reference, ConstraintBetas.paper(), TokenwiseConstrained.MIN_WEIGHT);
        }
    }

    /**
     * Everything that defines a run (stored in config.json; a resume must give the same).
     *
     * @param steps      optimiser steps; 0 = from {@code epochs}
     * @param epochs     passes over the data when steps is 0
     * @param constraint the constrained objective's settings; null for cross-entropy
     * @param adamBeta1  AdamW's beta1 (0.9; the paper's constrained runs use 0.5)
     */
    public record Options(Path model, Path data, SftData.Format format, String fields, Path evalData, int maxLength,
                          boolean full, int loraRank, float loraAlpha, float loraDropout, Set<Target> targets,
                          long steps, double epochs, long batchTokens, int microTokens, double lr, long warmup,
                          LrSchedule.Kind schedule, double weightDecay, double clip, long seed, int saveEvery,
                          int evalEvery, boolean recompute, Constraint constraint, double adamBeta1) {

        /** Cross-entropy with AdamW's usual beta1 of 0.9. */
        public Options(Path model, Path data, SftData.Format format, String fields, Path evalData, int maxLength,
                       boolean full, int loraRank, float loraAlpha, float loraDropout, Set<Target> targets,
                       long steps, double epochs, long batchTokens, int microTokens, double lr, long warmup,
                       LrSchedule.Kind schedule, double weightDecay, double clip, long seed, int saveEvery,
                       int evalEvery, boolean recompute) {
            this(model, data, format, fields, evalData, maxLength, full, loraRank, loraAlpha, loraDropout, targets, steps,
                    epochs, batchTokens, microTokens, lr, warmup, schedule, weightDecay, clip, seed, saveEvery, evalEvery,
                    recompute, null, 0.9);
        }

        /** These options on another model and training file. */
        public Options withModelAndData(Path newModel, Path newData) {
            return new Options(newModel, newData, format, fields, evalData, maxLength, full, loraRank, loraAlpha, loraDropout,
                    targets, steps, epochs, batchTokens, microTokens, lr, warmup, schedule, weightDecay, clip, seed,
                    saveEvery, evalEvery, recompute, constraint, adamBeta1);
        }

        /** These options with the constrained objective ({@code null}: cross-entropy) and AdamW's beta1. */
        public Options withObjective(Constraint c, double beta1) {
            return new Options(model, data, format, fields, evalData, maxLength, full, loraRank, loraAlpha, loraDropout,
                    targets, steps, epochs, batchTokens, microTokens, lr, warmup, schedule, weightDecay, clip, seed,
                    saveEvery, evalEvery, recompute, c, beta1);
        }

        /** LoRA with the usual defaults on every target. */
        public static Options lora(Path model, Path data) {
            return new Options(model, data, SftData.Format.AUTO, null, null, 0, false, 8, 16f, 0f,
                    EnumSet.allOf(Target.class), 0, 1, 2048, 2048, 2e-4, 0, LrSchedule.Kind.COSINE, 0, 1.0, 0, 50, 0,
                    false);
        }

        void validate() {
            if (steps < 0) throw new InvalidInputException("--steps must be >= 0, got " + steps);
            if (steps == 0 && !(epochs > 0)) throw new InvalidInputException("--epochs must be > 0, got " + epochs);
            if (batchTokens < 1) throw new InvalidInputException("--batch-tokens must be >= 1, got " + batchTokens);
            if (microTokens < 1) throw new InvalidInputException("--micro-tokens must be >= 1, got " + microTokens);
            if (!(lr > 0) || Double.isInfinite(lr)) throw new InvalidInputException("--lr must be > 0, got " + lr);
            if (warmup < 0) throw new InvalidInputException("--warmup must be >= 0, got " + warmup);
            if (!(weightDecay >= 0)) throw new InvalidInputException("--weight-decay must be >= 0, got " + weightDecay);
            if (!(clip >= 0)) throw new InvalidInputException("--clip must be >= 0 (0 = off), got " + clip);
            if (saveEvery < 0 || evalEvery < 0) throw new InvalidInputException("--save-every and --eval-every must be >= 0");
            if (evalEvery > 0 && evalData == null) throw new InvalidInputException("--eval-every needs --eval-data");
            if (!(adamBeta1 >= 0 && adamBeta1 < 1)) throw new InvalidInputException("--adam-beta1 must be in [0, 1), got " + adamBeta1);
            if (constraint != null) {
                if (!Files.isDirectory(constraint.reference())) {
                    throw new InvalidInputException(constraint.reference(), "reference model directory not found");
                }
                if (!(constraint.minWeight() >= 0 && constraint.minWeight() <= 2)) {
                    throw new InvalidInputException("--min-weight must be in [0, 2], got " + constraint.minWeight());
                }
            }
        }

        ObjectNode toJson(Path data, Path evalData) {
            ObjectNode c = RunDirectory.object();
            c.put("job", "train-sft");
            c.put("model", model.toAbsolutePath().normalize().toString());
            c.put("data", data.toAbsolutePath().normalize().toString());
            c.put("data_sha256", RunDirectory.sha256(data));
            c.put("format", format.label());
            c.put("fields", fields);
            c.put("eval_data", evalData == null ? null : evalData.toAbsolutePath().normalize().toString());
            c.put("eval_data_sha256", evalData == null ? null : RunDirectory.sha256(evalData));
            c.setAll(settingsJson());
            return c;
        }

        /** The training settings of the config (everything but the job, the model and the data files). */
        public ObjectNode settingsJson() {
            ObjectNode c = RunDirectory.object();
            // 0 means "the model's context" and steps 0 "from --epochs": null, not a count of 0.
            if (maxLength > 0) c.put("max_length", maxLength);
            else c.putNull("max_length");
            c.put("mode", full ? "full" : "lora");
            if (!full) {
                c.put("lora_rank", loraRank);
                c.put("lora_alpha", loraAlpha);
                c.put("lora_dropout", loraDropout);
                ArrayNode t = c.putArray("lora_targets");
                for (Target target : EnumSet.copyOf(targets)) t.add(target.module());
            }
            if (steps > 0) c.put("steps", steps);
            else c.putNull("steps");
            c.put("epochs", epochs);
            c.put("batch_tokens", batchTokens);
            c.put("micro_tokens", microTokens);
            c.put("lr", lr);
            c.put("warmup", warmup);
            c.put("schedule", schedule.label());
            c.put("weight_decay", weightDecay);
            c.put("clip", clip);
            c.put("seed", seed);
            c.put("save_every", saveEvery);
            c.put("eval_every", evalEvery);
            c.put("recompute", recompute);
            // Written only when they differ from plain SFT, so that runs from before the objective existed resume.
            if (constraint != null) {
                c.put("objective", "constrained");
                c.put("reference", constraint.reference().toAbsolutePath().normalize().toString());
                c.put("betas", constraint.betas().toString());
                c.put("min_weight", constraint.minWeight());
            }
            if (constraint != null || adamBeta1 != 0.9) c.put("adam_beta1", adamBeta1);
            return c;
        }
    }

    private SftRun() {
    }

    /**
     * Runs (or resumes) the job. {@code out} null creates {@code runsRoot/train-sft-<time>}.
     *
     * @return the summary (also written to summary.json)
     */
    public static JsonNode run(Options o, Path runsRoot, Path out, Listener listener) {
        o.validate();
        Path data = o.data();
        if (!Files.isRegularFile(data)) throw new InvalidInputException(data, "data file not found");
        if (o.evalData() != null && !Files.isRegularFile(o.evalData())) {
            throw new InvalidInputException(o.evalData(), "evaluation data file not found");
        }
        try (Model base = Model.load(o.model()); Tokenizer tokenizer = Tokenizer.load(o.model());
             Model reference = o.constraint() == null ? null : Model.load(o.constraint().reference())) {
            if (reference != null && reference.config().vocabSize() != base.config().vocabSize()) {
                throw new InvalidInputException(o.constraint().reference(), "the reference model has a vocabulary of "
                        + reference.config().vocabSize() + " tokens, the model " + base.config().vocabSize()
                        + ": the constrained objective compares the two models' probabilities of the same tokens");
            }
            // Everything is read and checked before the run directory is touched.
            SftData reader = SftData.forModel(base, tokenizer, o.maxLength());
            FieldMapping fields = o.fields() == null ? null : FieldMapping.parse(o.fields());
            List<TrainingExample> train = reader.read(data, o.format(), fields);
            List<TrainingExample> eval = o.evalData() == null ? List.of() : reader.read(o.evalData(), o.format(), fields);
            StepPlan plan = new StepPlan(train, o.batchTokens(), o.seed());
            long total = o.steps() > 0 ? o.steps() : (long) Math.ceil(o.epochs() * plan.stepsPerEpoch());

            RunDirectory run = RunDirectory.openOrCreate(runsRoot, "train-sft", out, o.toJson(data, o.evalData()));
            try (TrainableState state = o.full() ? FullState.of(o.model()) : new LoraState(base,
                    LoraAdapter.create(base.config(), o.loraRank(), o.loraAlpha(), o.loraDropout(), o.targets(),
                            new Random(o.seed())))) {
                Trainer.Settings settings = new Trainer.Settings(o.microTokens(), o.clip(), o.recompute(), o.seed(),
                        new LrSchedule(o.schedule(), o.lr(), o.warmup(), total),
                        new AdamW.Settings(o.adamBeta1(), 0.999, 1e-8, o.weightDecay()));
                TrainingLoss loss = reference == null ? TrainingLoss.CROSS_ENTROPY
                        : new ConstrainedLoss(reference, o.constraint().betas(), o.constraint().minWeight());
                Trainer trainer = new Trainer(state, plan, settings, Hooks.none(), loss);
                Path checkpoints = run.path("checkpoints");
                long done = 0;
                Path last = lastCheckpoint(checkpoints);
                if (last != null) done = trainer.restore(last);
                listener.started(done, total, run.path());

                ResultsLog metrics = run.results("metrics.jsonl");
                double seconds = 0;
                long tokens = 0;
                for (long s = done; s < total; s++) {
                    Trainer.StepMetrics m = trainer.step(s);
                    seconds += m.seconds();
                    tokens += m.tokens();
                    boolean evalNow = !eval.isEmpty() && (o.evalEvery() > 0 && (s + 1) % o.evalEvery() == 0 || s + 1 == total);
                    double evalLoss = evalNow ? trainer.evalLoss(eval) : Double.NaN;
                    String id = "step-" + (s + 1);
                    // A resumed run recomputes steps logged after its checkpoint: the same values, logged once.
                    if (!metrics.isDone(id)) metrics.append(metricsLine(id, m, evalLoss, reference != null));
                    listener.step(m, evalLoss, total);
                    boolean save = o.saveEvery() > 0 && (s + 1) % o.saveEvery() == 0 || s + 1 == total;
                    if (save) checkpoint(trainer, checkpoints, s + 1);
                }
                Path result = run.path(o.full() ? "model" : "adapter");
                if (!Files.exists(result.resolve(o.full() ? "model.safetensors" : "adapter_model.safetensors"))) {
                    exportAtomically(state, result);
                }
                List<JsonNode> lines = metrics.all();
                chart(run, lines, reference != null);
                JsonNode summary = summary(o, run, lines, state, result, train, eval, total, seconds, tokens,
                        plan.stepsPerEpoch());
                run.writeSummary(summary);
                return summary;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode metricsLine(String id, Trainer.StepMetrics m, double evalLoss, boolean constrained) {
        ObjectNode line = RunDirectory.object();
        line.put("id", id);
        line.put("step", m.step() + 1);
        line.put("loss", m.loss());
        if (constrained) {
            line.put("cross_entropy", m.crossEntropy());
            line.put("mean_weight", m.meanWeight());
        }
        line.put("lr", m.lr());
        line.put("grad_norm", m.gradNorm());
        line.put("tokens", m.tokens());
        line.put("trained_tokens", m.trainedTokens());
        line.put("seconds", m.seconds());
        line.put("tok_s", m.tokensPerSecond());
        if (!Double.isNaN(evalLoss)) line.put("eval_loss", evalLoss);
        return line;
    }

    /** The newest complete checkpoint (a directory renamed into place once written), or null. */
    static Path lastCheckpoint(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) return null;
        try (Stream<Path> dirs = Files.list(checkpoints)) {
            return dirs.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isDirectory(p))
                    .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))))
                    .orElse(null);
        }
    }

    /** Writes a checkpoint beside its final name and renames it into place, then keeps only the last two. */
    private static void checkpoint(Trainer trainer, Path checkpoints, long stepsDone) throws IOException {
        Path target = checkpoints.resolve(String.format("step-%06d", stepsDone));
        if (Files.exists(target)) return;
        Path tmp = checkpoints.resolve(".tmp-" + target.getFileName());
        deleteTree(tmp);
        trainer.save(tmp, stepsDone);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        try (Stream<Path> dirs = Files.list(checkpoints)) {
            List<Path> all = new ArrayList<>(dirs.filter(p -> p.getFileName().toString().matches("step-\\d+")).sorted().toList());
            for (int i = 0; i < all.size() - 2; i++) deleteTree(all.get(i));
        }
    }

    private static void exportAtomically(TrainableState state, Path result) throws IOException {
        Path tmp = result.resolveSibling(".tmp-" + result.getFileName());
        deleteTree(tmp);
        state.export(tmp);
        deleteTree(result);
        Files.move(tmp, result, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static void chart(RunDirectory run, List<JsonNode> lines, boolean constrained) {
        if (lines.isEmpty()) return;
        double[] x = new double[lines.size()], y = new double[lines.size()], ce = new double[lines.size()];
        List<double[]> evals = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            x[i] = lines.get(i).get("step").asDouble();
            y[i] = lines.get(i).get("loss").asDouble();
            ce[i] = lines.get(i).path("cross_entropy").asDouble(Double.NaN);
            if (lines.get(i).has("eval_loss")) evals.add(new double[]{x[i], lines.get(i).get("eval_loss").asDouble()});
        }
        Chart chart = Chart.line("Training loss", "step", "mean cross-entropy (nats/token)")
                .series(constrained ? "train (weighted by the constraint)" : "train", x, y);
        if (constrained) chart.series("train cross-entropy", x, ce);
        if (!evals.isEmpty()) {
            chart.series("eval", evals.stream().mapToDouble(e -> e[0]).toArray(), evals.stream().mapToDouble(e -> e[1]).toArray());
        }
        chart.save(run.path(), "loss");
    }

    private static JsonNode summary(Options o, RunDirectory run, List<JsonNode> lines, TrainableState state, Path result,
                                    List<TrainingExample> train, List<TrainingExample> eval, long total, double seconds,
                                    long tokens, int stepsPerEpoch) {
        ObjectNode s = RunDirectory.object();
        s.put("mode", o.full() ? "full" : "lora");
        s.put("objective", o.constraint() == null ? "sft" : "constrained");
        s.put("steps", total);
        s.put("examples", train.size());
        s.put("eval_examples", eval.size());
        s.put("trainable_parameters", state.parameterCount());
        JsonNode first = lines.isEmpty() ? null : lines.getFirst(), last = lines.isEmpty() ? null : lines.getLast();
        if (first != null) s.put("first_loss", first.get("loss").asDouble());
        if (last != null) s.put("final_loss", last.get("loss").asDouble());
        if (first != null && first.has("cross_entropy")) {
            s.put("first_cross_entropy", first.get("cross_entropy").asDouble());
            s.put("final_cross_entropy", last.get("cross_entropy").asDouble());
            s.put("final_mean_weight", last.get("mean_weight").asDouble());
        }
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).has("eval_loss")) {
                s.put("final_eval_loss", lines.get(i).get("eval_loss").asDouble());
                s.put("final_eval_step", lines.get(i).get("step").asLong());
                break;
            }
        }
        // Steps hold different examples, so single steps' losses are not comparable; whole epochs are.
        ArrayNode epochs = s.putArray("loss_by_epoch");
        for (int from = 0; from < lines.size(); from += stepsPerEpoch) {
            double sum = 0, n = 0;
            for (int i = from; i < Math.min(lines.size(), from + stepsPerEpoch); i++) {
                sum += lines.get(i).get("loss").asDouble() * lines.get(i).get("trained_tokens").asDouble();
                n += lines.get(i).get("trained_tokens").asDouble();
            }
            if (from + stepsPerEpoch <= lines.size() && n > 0) epochs.add(sum / n);
        }
        s.put("steps_per_epoch", stepsPerEpoch);
        double allSeconds = 0;
        long allTokens = 0;
        for (JsonNode l : lines) {
            allSeconds += l.get("seconds").asDouble();
            allTokens += l.get("tokens").asLong();
        }
        s.put("tokens", allTokens);
        s.put("train_seconds", allSeconds);
        s.put("tok_s", allTokens / Math.max(1e-9, allSeconds));
        s.put("this_session_seconds", seconds);
        s.put("this_session_tokens", tokens);
        s.put("peak_heap_mib", peakHeapMib());
        s.put("result", result.toString());
        s.put("run", run.path().toString());
        return s;
    }

    /** The JVM's largest heap use seen so far (all pools' peaks), in MiB. */
    static long peakHeapMib() {
        long peak = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak >> 20;
    }
}
