package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.extract.HookKinds;
import dev.vane.lab.probe.ProbeData;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.probe.ProbeStudy;
import dev.vane.lab.run.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code vane probe}: linear probes per layer (and per head) with cross-validated accuracy. */
@Command(name = "probe",
        description = {"Train linear probes (L2 logistic regression) on activations at every layer, and at every head "
                + "for --hook z, and report cross-validated accuracy.",
                "Data: --data FILE of {\"text\", \"label\"}, or --positive FILE --negative FILE of requests "
                        + "({\"prompt\"}; label 1 = positive). Activations are read at --position of each prompt (default: "
                        + "the last token, which with the chat template is the end of the generation prompt). Writes "
                        + "results.jsonl, summary.json and charts (accuracy by layer; layer x head heatmap for z).",
                "--save FILE also writes one classifier (default: the best held-out layer) as a probe file that can gate "
                        + "steering (--when FILE>0.5 in generate and eval, \"when\" in vane serve --probes)."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane probe --positive models/organism-data/harmful.jsonl --negative models/organism-data/benign.jsonl \\",
                "      --hook resid_post",
                "  vane probe --data statements.jsonl --hook z --no-chat --folds 5 --json",
                "  vane probe --positive models/organism-data/harmful.jsonl --negative models/organism-data/benign.jsonl \\",
                "      --split train --hook resid_post --save probes/harm.safetensors --label \"harmful request\""},
        mixinStandardHelpOptions = true)
final class ProbeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Mixin
    PromptOptions prompts;

    @Mixin
    RunOptions runOptions;

    @Mixin
    AdapterOption adapters;

    @Option(names = "--data", paramLabel = "FILE", description = "JSON lines of {\"text\", \"label\"} (label true/false or 1/0).")
    Path data;

    @Option(names = "--positive", paramLabel = "FILE", description = "Requests labelled 1 (e.g. harmful.jsonl).")
    Path positive;

    @Option(names = "--negative", paramLabel = "FILE", description = "Requests labelled 0 (e.g. benign.jsonl).")
    Path negative;

    @Option(names = "--hook", required = true, paramLabel = "NAME",
            description = "resid_post, resid_mid, resid_pre, attn_out, mlp_out or z (per head as well).")
    String hook;

    @Option(names = "--position", paramLabel = "last|INDEX", defaultValue = "last",
            description = "Token read in each prompt: last, or an index (negative = from the end) (default: ${DEFAULT-VALUE}).")
    String position;

    @Option(names = "--folds", paramLabel = "K", defaultValue = "5", description = "Cross-validation folds (default: ${DEFAULT-VALUE}).")
    int folds;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the fold split (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--c", paramLabel = "C", defaultValue = "1.0",
            description = "Inverse L2 regularisation strength (default: ${DEFAULT-VALUE}, as ITI).")
    double c;

    @Option(names = "--save", paramLabel = "FILE",
            description = "Write the classifier of one layer (or head) as a probe file (.safetensors) for gated steering.")
    Path save;

    @Option(names = "--save-layer", paramLabel = "L", description = "--save: this layer (default: the best held-out layer).")
    Integer saveLayer;

    @Option(names = "--save-head", paramLabel = "H", description = "--save with --hook z: only this head (default: all heads).")
    Integer saveHead;

    @Option(names = "--label", paramLabel = "TEXT", defaultValue = "positive",
            description = "--save: what probability 1 means, recorded in the file (default: ${DEFAULT-VALUE}).")
    String label;

    @Option(names = "--split", paramLabel = "NAME",
            description = "With --positive/--negative: only requests of this split (e.g. train, so the test split stays unseen).")
    String split;

    @Override
    public Integer call() {
        HookPoint.Kind kind = HookKinds.parse(hook, ProbeStudy.KINDS);
        int pos = parsePosition();
        if ((data == null) == (positive == null && negative == null) || (positive == null) != (negative == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give either --data FILE or both --positive FILE and --negative FILE");
        }
        if (save == null && (saveLayer != null || saveHead != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--save-layer and --save-head need --save FILE");
        }
        if (split != null && data != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--split works with --positive/--negative");
        }
        ProbeData examples = data != null ? ProbeData.fromLabelled(data) : ProbeData.fromRequests(positive, negative, split);
        ProbeStudy.Settings settings = new ProbeStudy.Settings(kind, pos, folds, seed, c);
        PrintWriter out = spec.commandLine().getOut();
        try (Model model = adapters.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
            PromptFormat format = prompts.format(tokenizer, spec);
            List<int[]> sequences = examples.encode(format);
            RunDirectory run = runOptions.open("probe", config(model, format, settings));
            ProbeStudy study = new ProbeStudy(model, settings);
            ProbeStudy.Report report;
            try (Progress progress = Progress.start("probe", study.steps(sequences.size()), spec.commandLine().getErr())) {
                report = study.run(sequences, examples.labels(), run, progress::step);
            }
            ProbeFile saved = save == null ? null : save(study, sequences, examples, report, model, format);
            runOptions.finish(out, run, ProbeStudy.summary(report), () -> {
                out.printf("Probe accuracy by layer (%s, %d examples, %d-fold CV; majority label %.3f):%n",
                        HookKinds.shortName(kind), report.examples(), folds, report.chance());
                for (int l = 0; l < report.accuracyByLayer().length; l++) {
                    out.printf("  layer %2d  %.3f  (folds +- %.3f)%n", l, report.accuracyByLayer()[l],
                            report.foldSpreadByLayer()[l]);
                }
                if (saved != null) {
                    out.printf(Locale.ROOT, "saved %s: %s%s, held-out accuracy %.3f%n", save, saved.point().name(),
                            saved.head() >= 0 ? " head " + saved.head() : "", saved.metadata().accuracy());
                }
            });
        }
        return 0;
    }

    /** Fits the chosen layer's (or head's) classifier on every example and writes it to {@code --save}. */
    private ProbeFile save(ProbeStudy study, List<int[]> sequences, ProbeData examples, ProbeStudy.Report report,
                           Model model, PromptFormat format) {
        int layer = saveLayer != null ? saveLayer : report.bestLayer();
        int head = saveHead != null ? saveHead : -1;
        String source = data != null ? RunOptions.absolute(data)
                : RunOptions.absolute(positive) + " (label 1) vs " + RunOptions.absolute(negative) + " (label 0)"
                + (split != null ? ", split " + split : "");
        ProbeFile.Metadata about = new ProbeFile.Metadata(model.directory().getFileName().toString(), source, label, 0,
                Map.of("prompt_format", format.describe()));
        String name = save.getFileName().toString().replaceFirst("\\.safetensors$", "");
        ProbeFile probe = study.fitFile(sequences, examples.labels(), report, layer, head, name, about);
        probe.write(save);
        return probe;
    }

    private int parsePosition() {
        if (position.equals("last")) return -1;
        try {
            return Integer.parseInt(position);
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--position must be last or an integer, got " + position);
        }
    }

    private ObjectNode config(Model model, PromptFormat format, ProbeStudy.Settings s) {
        ObjectNode c = RunOptions.config("probe", model);
        if (data != null) c.put("data", RunOptions.absolute(data));
        if (positive != null) c.put("positive", RunOptions.absolute(positive));
        if (negative != null) c.put("negative", RunOptions.absolute(negative));
        c.put("prompt_format", format.describe());
        c.put("hook", HookKinds.shortName(s.kind()));
        c.put("position", s.position());
        c.put("folds", s.folds());
        c.put("seed", s.seed());
        c.put("c", s.c());
        c.put("classifier", "liblinear L2R_LR, standardised features, unregularised intercept");
        if (split != null) c.put("split", split);
        if (save != null) {
            c.put("save", RunOptions.absolute(save));
            if (saveLayer != null) c.put("save_layer", saveLayer);
            if (saveHead != null) c.put("save_head", saveHead);
            c.put("label", label);
        }
        adapters.record(c);
        return c;
    }
}
