package dev.vane.lab.bench;

import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.Blas;
import dev.vane.core.tensor.ComputePool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Measures the engine on one checkpoint, with the same definitions as bench/torch_baseline.py so the two can be
 * compared figure by figure. Every timed figure is the median of {@code runs} after a warm-up.
 *
 * <pre>{@code
 * BenchResult r = new Benchmark(dir, "llama-3.2-1b", 2, 3, System.err::println).run();
 * }</pre>
 */
public final class Benchmark {
    static final int PREFILL_TOKENS = 512;
    static final int EXTRACT_ROWS = 32;
    static final int EXTRACT_TOKENS = 64;
    static final int DECODE_STEPS = 16;

    private final Path dir;
    private final String shape;
    private final int threads;
    private final int runs;
    private final Consumer<String> log;
    private final SplittableRandom random = new SplittableRandom(1234);

    public Benchmark(Path dir, String shape, int threads, int runs, Consumer<String> log) {
        this.dir = dir;
        this.shape = shape;
        this.threads = threads;
        this.runs = runs;
        this.log = log;
    }

    public BenchResult run() {
        ComputePool.setThreads(threads);
        double[] loads = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Model m = Model.load(dir);
            loads[i] = seconds(t0);
            m.close();
        }
        try (Model model = Model.load(dir)) {
            int vocab = model.config().vocabSize();
            log.accept("warm-up");
            model.forward(Batch.of(tokens(vocab, 64)), new Hooks(), model.newCache(1, 64), LogitsMode.LAST);

            log.accept("prefill 1 x " + PREFILL_TOKENS);
            int[] prompt = tokens(vocab, PREFILL_TOKENS);
            double prefill = median(runs, () -> {
                long t0 = System.nanoTime();
                model.forward(Batch.of(prompt), new Hooks(), model.newCache(1, PREFILL_TOKENS), LogitsMode.LAST);
                return PREFILL_TOKENS / seconds(t0);
            });

            log.accept("extraction " + EXTRACT_ROWS + " x " + EXTRACT_TOKENS + " with resid_post cached at every layer");
            int[][] rows = new int[EXTRACT_ROWS][];
            for (int r = 0; r < rows.length; r++) rows[r] = tokens(vocab, EXTRACT_TOKENS);
            String[] points = new String[model.config().layers()];
            for (int l = 0; l < points.length; l++) points[l] = "blocks." + l + ".hook_resid_post";
            ActivationCache cache = new ActivationCache();     // cleared, not remade: its storage is reused
            double extract = median(runs, () -> {
                cache.clear();
                long t0 = System.nanoTime();
                model.forward(Batch.of(rows), new Hooks().cache(cache, points),
                        model.newCache(EXTRACT_ROWS, EXTRACT_TOKENS), LogitsMode.NONE);
                return EXTRACT_ROWS * EXTRACT_TOKENS / seconds(t0);
            });

            float[] vector = new float[model.config().dModel()];
            for (int i = 0; i < vector.length; i++) vector[i] = (float) (random.nextDouble() - 0.5) * 0.1f;
            Hooks steer = new Hooks();
            for (String p : points) steer.add(p, vector, 1f, Positions.all());

            log.accept("decode at context 128 (plain and steered)");
            KvCache cache128 = prefilled(model, 128);
            decodeSeconds(model, cache128, 128, new Hooks());     // warm-up: the JIT compiles both paths first
            decodeSeconds(model, cache128, 128, steer);
            double[] plain = new double[runs], steered = new double[runs];
            for (int i = 0; i < runs; i++) {        // interleaved so that drift of the machine hits both alike
                plain[i] = decodeSeconds(model, cache128, 128, new Hooks());
                steered[i] = decodeSeconds(model, cache128, 128, steer);
            }
            double plainS = median(plain), steerS = median(steered);

            log.accept("decode at context 1024");
            KvCache cache1024 = prefilled(model, 1024);
            decodeSeconds(model, cache1024, 1024, new Hooks());   // warm-up at this context length
            double[] long1024 = new double[runs];
            for (int i = 0; i < runs; i++) long1024[i] = decodeSeconds(model, cache1024, 1024, new Hooks());

            double peakRss = peakRssMb();       // before the triad, whose arrays are not the engine's
            log.accept("matrix-product rate (" + Blas.status() + ")");
            GemmRate gemm = GemmRate.measure(model.layer(0).up(), PREFILL_TOKENS);
            log.accept("memory bandwidth (STREAM triad)");
            double bandwidth = MemoryBandwidth.triad(1 << 25, 5);
            long bytes = model.weightBytesPerToken();
            double secondsPerToken = plainS / DECODE_STEPS;
            return new BenchResult(shape, threads, median(loads), prefill, extract, DECODE_STEPS / plainS,
                    DECODE_STEPS / median(long1024), (steerS / plainS - 1) * 100, peakRss, bandwidth,
                    bytes / secondsPerToken / 1e9 / bandwidth * 100, bytes, gemm);
        }
    }

    private KvCache prefilled(Model model, int context) {
        KvCache cache = model.newCache(1, context + DECODE_STEPS);
        model.forward(Batch.of(tokens(model.config().vocabSize(), context)), new Hooks(), cache, LogitsMode.LAST);
        return cache;
    }

    /** Seconds for DECODE_STEPS single-token steps continuing {@code cache}, which is then put back. */
    private double decodeSeconds(Model model, KvCache cache, int context, Hooks hooks) {
        int vocab = model.config().vocabSize();
        long t0 = System.nanoTime();
        int token = 1;
        for (int s = 0; s < DECODE_STEPS; s++) {
            float[] logits = model.forward(Batch.nextTokens(token), hooks, cache, LogitsMode.LAST).lastLogits(0);
            token = Math.floorMod(Float.floatToRawIntBits(logits[s % vocab]), vocab);   // depends on the output
        }
        double seconds = seconds(t0);
        cache.truncate(context);
        return seconds;
    }

    private int[] tokens(int vocab, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = random.nextInt(vocab);
        return t;
    }

    private interface Measurement {
        double measure();
    }

    private double median(int n, Measurement m) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = m.measure();
        return median(v);
    }

    public static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Peak resident set (VmHWM) from /proc, or NaN where there is none. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        } catch (Exception e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
