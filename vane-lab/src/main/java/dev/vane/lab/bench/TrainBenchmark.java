package dev.vane.lab.bench;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.ComputePool;
import dev.vane.train.data.StepPlan;
import dev.vane.train.data.TrainingExample;
import dev.vane.train.optim.AdamW;
import dev.vane.train.optim.LrSchedule;
import dev.vane.train.run.FullState;
import dev.vane.train.run.LoraState;
import dev.vane.train.run.TrainableState;
import dev.vane.train.run.Trainer;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Training speed with the same definitions as bench/torch_train.py: one optimiser step (training forward,
 * cross-entropy over all 512 tokens of a 1 x 512 batch, backward, AdamW) in tokens/s, median of {@code runs}
 * after a warm-up step (AdamW at lr 1e-4, weight decay 0.01); LoRA of rank 16, alpha 32 on q, k, v, o, gate, up, down, and full fine-tuning where
 * its float32 masters, gradients and AdamW moments fit in the JVM's heap.
 *
 * <pre>{@code
 * TrainBenchmark.Result r = new TrainBenchmark(dir, 2, 3, System.err::println).run();
 * }</pre>
 */
public final class TrainBenchmark {
    static final int TOKENS = 512;

    /**
     * @param lora       tokens/s of each LoRA run
     * @param full       tokens/s of each full run, or null when skipped
     * @param fullSkip   why full fine-tuning was skipped, or null
     * @param peakLoraMb peak resident memory after the LoRA runs (MB, from /proc)
     * @param peakFullMb peak resident memory after the full runs, NaN when skipped
     */
    public record Result(double[] lora, double[] full, String fullSkip, double peakLoraMb, double peakFullMb) {
    }

    private final Path dir;
    private final int threads;
    private final int runs;
    private final Consumer<String> log;

    public TrainBenchmark(Path dir, int threads, int runs, Consumer<String> log) {
        this.dir = dir;
        this.threads = threads;
        this.runs = runs;
        this.log = log;
    }

    public Result run() {
        ComputePool.setThreads(threads);
        double[] lora;
        try (Model model = Model.load(dir)) {
            log.accept("LoRA r=16 step on 1 x " + TOKENS);
            LoraAdapter adapter = LoraAdapter.create(model.config(), 16, 32f, 0f, EnumSet.allOf(Target.class), new Random(1));
            try (LoraState state = new LoraState(model, adapter)) {
                lora = steps(state, model.config().vocabSize());
            }
        }
        double peakLora = Benchmark.peakRssMb();
        long params = parameterCount();
        // masters + the model's float32 copy + gradients + two moments, 4 bytes each
        long need = params * 20L;
        long heap = Runtime.getRuntime().maxMemory();
        if (need > heap * 0.8) {
            String why = String.format("full fine-tuning needs about %.1f GiB of heap for %d parameters (float32 masters, "
                    + "copy, gradients, AdamW moments); this JVM has %.1f GiB (raise it with VANE_JAVA_OPTS=-Xmx...)",
                    need / 1073741824.0, params, heap / 1073741824.0);
            log.accept("full: skipped (" + why + ")");
            return new Result(lora, null, why, peakLora, Double.NaN);
        }
        log.accept("full fine-tuning step on 1 x " + TOKENS);
        double[] full;
        try (FullState state = FullState.of(dir)) {
            full = steps(state, state.model().config().vocabSize());
        }
        return new Result(lora, full, null, peakLora, Benchmark.peakRssMb());
    }

    private long parameterCount() {
        try (Model m = Model.load(dir)) {
            long n = 0;
            for (String name : m.weights().names()) n += m.weights().info(name).elementCount();
            return n;
        }
    }

    private double[] steps(TrainableState state, int vocab) {
        SplittableRandom random = new SplittableRandom(1234);
        int[] ids = new int[TOKENS];
        for (int i = 0; i < ids.length; i++) ids[i] = random.nextInt(vocab);
        StepPlan plan = new StepPlan(List.of(TrainingExample.allTokens(ids)), TOKENS, 0);
        Trainer trainer = new Trainer(state, plan, new Trainer.Settings(TOKENS, 1.0, false, 0,
                new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-4, 0, runs + 1), AdamW.Settings.defaults(0.01)), Hooks.none());
        trainer.step(0);                                            // warm-up
        double[] tokS = new double[runs];
        for (int i = 0; i < runs; i++) {
            Trainer.StepMetrics m = trainer.step(i + 1);
            tokS[i] = m.tokens() / m.seconds();
            log.accept(String.format("  run %d: %.1f tokens/s (loss %.3f)", i + 1, tokS[i], m.loss()));
        }
        return tokS;
    }
}
