package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.data.PromptPair;
import dev.vane.lab.extract.HookKinds;
import dev.vane.lab.patch.ActivationPatching;
import dev.vane.lab.patch.PatchGrid;
import dev.vane.lab.patch.PatchMetric;
import dev.vane.lab.run.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vane patch}: activation patching from clean into corrupted runs, per layer, head or position. */
@Command(name = "patch",
        description = {"Activation patching: which layers, heads or positions carry the difference between a clean "
                + "and a corrupted prompt?",
                "Each {\"clean\", \"corrupt\"} pair of --pairs is run; then the corrupt prompt is rerun with one unit's "
                        + "activation replaced by the clean run's (positions aligned from the end), and the fraction of "
                        + "the clean-vs-corrupt metric gap it restores is reported per unit and as a heatmap.",
                "Metrics: logit-diff = log P(--answers) - log P(--against) of the next token (each set summed); "
                        + "prob = probability of --continuation after the prompt."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane patch --pairs data/refusal-pairs.jsonl --hook resid_post --over positions --last-positions 8 \\",
                "      --metric logit-diff --answers I --against Sure",
                "  vane patch --model ~/models/Llama-2-7b-chat-hf --pairs liar-honest.jsonl --no-chat --hook z --over heads \\",
                "      --last-positions 25 --metric logit-diff --answers \" True, true\" --against \" False, false\" --json"},
        mixinStandardHelpOptions = true)
final class PatchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Mixin
    PromptOptions prompts;

    @Mixin
    RunOptions runOptions;

    @Option(names = "--pairs", required = true, paramLabel = "FILE", description = "JSON lines of {\"clean\", \"corrupt\"} prompts.")
    Path pairsFile;

    @Option(names = "--hook", required = true, paramLabel = "NAME",
            description = "Activation patched: resid_post, resid_mid, resid_pre, attn_out, mlp_out or z.")
    String hook;

    @Option(names = "--over", required = true, paramLabel = "UNITS",
            description = "layers, heads (with --hook z), positions (layer x position), or layer-windows:K.")
    String over;

    @Option(names = "--last-positions", paramLabel = "N", defaultValue = "0",
            description = "Patch the last N positions (default: every position of the shortest prompt).")
    int lastPositions;

    @Option(names = "--metric", required = true, paramLabel = "NAME", description = "logit-diff or prob.")
    String metricName;

    @Option(names = "--answers", paramLabel = "A,B,...", description = "logit-diff: tokens of the clean behaviour, comma-separated.")
    String answers;

    @Option(names = "--against", paramLabel = "C,D,...", description = "logit-diff: tokens of the corrupt behaviour, comma-separated.")
    String against;

    @Option(names = "--continuation", paramLabel = "TEXT", description = "prob: the text whose probability is measured.")
    String continuation;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "Pairs per forward call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() {
        HookPoint.Kind kind = HookKinds.parse(hook, ActivationPatching.KINDS);
        if (batch < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1");
        ActivationPatching.Settings settings = new ActivationPatching.Settings(kind, PatchGrid.parse(over), lastPositions);
        List<PromptPair> pairs = JsonlFile.read(pairsFile, PromptPair::fromJson);
        PrintWriter out = spec.commandLine().getOut();
        try (Model model = Model.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
            PatchMetric metric = metric(tokenizer);
            PromptFormat format = prompts.format(tokenizer, spec);
            List<ActivationPatching.TokenPair> tokens = pairs.stream()
                    .map(p -> new ActivationPatching.TokenPair(format.encode(p.clean()), format.encode(p.corrupt()))).toList();
            ActivationPatching patching = new ActivationPatching(model, settings, batch);
            RunDirectory run = runOptions.open("patch", config(model, format, settings, metric));
            ActivationPatching.Report report;
            try (Progress progress = Progress.start("patch", patching.steps(tokens, metric), spec.commandLine().getErr())) {
                report = patching.run(tokens, metric, run, progress::step);
            }
            runOptions.finish(out, run, ActivationPatching.summary(report), () -> {
                print(out, report);
                if (settings.grid().over() == PatchGrid.Over.POSITIONS) {
                    ActivationPatching.TokenPair first = tokens.getFirst();
                    int[] suffix = metric.continuation();
                    out.println("Pair 1 at those positions:");
                    out.println("  clean:   " + tail(tokenizer, first.clean(), suffix, report.positions()));
                    out.println("  corrupt: " + tail(tokenizer, first.corrupt(), suffix, report.positions()));
                }
            });
        }
        return 0;
    }

    private PatchMetric metric(Tokenizer tokenizer) {
        switch (metricName) {
            case "logit-diff" -> {
                if (answers == null || against == null || continuation != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--metric logit-diff needs --answers and --against (and no --continuation)");
                }
                return PatchMetric.logProbDifference(tokenizer, list(answers), list(against));
            }
            case "prob" -> {
                if (continuation == null || answers != null || against != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--metric prob needs --continuation (and no --answers or --against)");
                }
                return PatchMetric.continuationProbability(tokenizer, continuation);
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--metric " + metricName + ": use logit-diff or prob");
        }
    }

    /** Comma-separated answers; spaces are kept (a leading space is part of many tokens). */
    private static List<String> list(String csv) {
        return Arrays.stream(csv.split(",")).filter(s -> !s.isEmpty()).toList();
    }

    private static void print(PrintWriter out, ActivationPatching.Report r) {
        out.printf("Patching %s over %s, %d pairs, last %d positions; metric %s: clean %.4f, corrupt %.4f%n",
                r.hook(), r.over(), r.pairs(), r.positions(), r.metric(), r.cleanMetric(), r.corruptMetric());
        out.printf("Fraction of the gap restored (rows: %s; columns: %s):%n", r.rowLabels().size() > 1 ? "layers" : "layer",
                String.join(" ", r.columnLabels()));
        for (int i = 0; i < r.rowLabels().size(); i++) {
            StringBuilder row = new StringBuilder(String.format("  %6s", r.rowLabels().get(i)));
            for (double v : r.restored()[i]) row.append(String.format(" %6.2f", v));
            out.println(row);
        }
        out.println("Top units: " + String.join(", ", r.top(5)));
    }

    /** The last {@code n} tokens of prompt + suffix, each quoted. */
    private static String tail(Tokenizer tokenizer, int[] prompt, int[] suffix, int n) {
        int[] all = Arrays.copyOf(prompt, prompt.length + suffix.length);
        System.arraycopy(suffix, 0, all, prompt.length, suffix.length);
        StringBuilder sb = new StringBuilder();
        for (int i = all.length - n; i < all.length; i++) {
            sb.append(i > all.length - n ? " " : "").append('"')
                    .append(tokenizer.decode(new int[]{all[i]}).replace("\n", "\\n")).append('"');
        }
        return sb.toString();
    }

    private ObjectNode config(Model model, PromptFormat format, ActivationPatching.Settings s, PatchMetric metric) {
        ObjectNode c = RunOptions.config("patch", model);
        c.put("pairs", RunOptions.absolute(pairsFile));
        c.put("prompt_format", format.describe());
        c.put("hook", HookKinds.shortName(s.kind()));
        c.put("over", s.grid().id());
        // 0 means every position the shortest prompt has: recorded as null, not as a count of 0.
        if (s.lastPositions() > 0) c.put("last_positions", s.lastPositions());
        else c.putNull("last_positions");
        c.put("metric", metric.describe());
        c.put("alignment", "end");
        return c;
    }
}
