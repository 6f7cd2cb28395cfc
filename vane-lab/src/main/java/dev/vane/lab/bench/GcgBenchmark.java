package dev.vane.lab.bench;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.ComputePool;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.attack.gcg.Gcg;
import dev.vane.lab.attack.gcg.SuffixSlot;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The time of one GCG step, with the same definitions as bench/torch_gcg.py: a 32-token prompt before a 20-token
 * suffix, 5 tokens after it, a 16-token target (random allowed tokens, seed 0); one step = the one-hot gradient,
 * top-256 per position, {@code batch} one-swap candidates, the decode-encode filter, and every surviving
 * candidate's target loss in forwards of 64 candidates that share the prompt's KV cache. Median of {@code runs}
 * steps after one warm-up step, each from the same suffix with its own seed.
 *
 * <pre>{@code
 * double[] seconds = new GcgBenchmark(checkpoint, tokenizerDir, 2, 3, System.err::println).run(512);
 * }</pre>
 */
public final class GcgBenchmark {
    static final int PROMPT = 32, SUFFIX = 20, AFTER = 5, TARGET = 16, TOP_K = 256, MINI_BATCH = 64;

    private final Path dir;
    private final Path tokenizerDir;
    private final int threads;
    private final int runs;
    private final Consumer<String> log;

    public GcgBenchmark(Path dir, Path tokenizerDir, int threads, int runs, Consumer<String> log) {
        this.dir = dir;
        this.tokenizerDir = tokenizerDir;
        this.threads = threads;
        this.runs = runs;
        this.log = log;
    }

    /** Seconds of each measured step at each candidate batch size, {@code [batch][run]}. */
    public double[][] run(int... batches) {
        ComputePool.setThreads(threads);
        try (Model model = Model.load(dir); Tokenizer tokenizer = Tokenizer.load(tokenizerDir)) {
            if (tokenizer.vocabSize() > model.config().vocabSize()) {
                throw new InvalidInputException(tokenizerDir + ": the tokenizer has " + tokenizer.vocabSize()
                        + " tokens, more than the model's vocabulary of " + model.config().vocabSize());
            }
            SplittableRandom random = new SplittableRandom(0);
            int[] ascii = asciiTokens(tokenizer, model.config().vocabSize());
            SuffixSlot slot = new SuffixSlot(pick(ascii, PROMPT, random), pick(ascii, AFTER, random), pick(ascii, TARGET, random));
            double[][] out = new double[batches.length][];
            for (int b = 0; b < batches.length; b++) {
                out[b] = new double[runs];
                for (int r = -1; r < runs; r++) {
                    Gcg gcg = new Gcg(model, tokenizer, new Gcg.Settings(SUFFIX, 1, batches[b], TOP_K, 1, true, r + 1, 0, 1, MINI_BATCH));
                    Gcg.Step start = gcg.start(slot, gcg.initialSuffix());
                    long t0 = System.nanoTime();
                    gcg.attack(slot, start, step -> { }, suffix -> false);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (r >= 0) out[b][r] = s;
                    log.accept(String.format("gcg step, batch %d%s: %.2f s", batches[b], r < 0 ? " (warm-up)" : "", s));
                }
            }
            return out;
        }
    }

    /** Token ids whose text is printable ASCII (the suffix's own filter): random prompts of real-looking text. */
    private static int[] asciiTokens(Tokenizer tokenizer, int vocab) {
        int n = Math.min(vocab, tokenizer.vocabSize());
        int[] ids = new int[n];
        int m = 0;
        for (int id = 0; id < n; id++) {
            String text = tokenizer.decode(new int[]{id}, true);
            if (!text.isEmpty() && text.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) ids[m++] = id;
        }
        return java.util.Arrays.copyOf(ids, m);
    }

    private static int[] pick(int[] from, int n, SplittableRandom random) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = from[random.nextInt(from.length)];
        return out;
    }
}
