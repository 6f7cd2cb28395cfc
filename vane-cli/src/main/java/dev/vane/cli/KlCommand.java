package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.kl.PerTokenKl;
import dev.vane.lab.run.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vane kl}: per-token KL between a model and its base along teacher-forced responses. */
@Command(name = "kl",
        description = {"Per-token KL(p_model || p_base) along teacher-forced responses (Qi et al. 2024: how deep is "
                + "the alignment?).",
                "Each {\"prompt\", \"response\"} pair of --data is run through both models - each with its own chat "
                        + "template, or both with a raw --template - and the KL of the next-token distributions is taken "
                        + "at every response position. Reports the mean, spread and count per position and charts "
                        + "the curve; --json prints {\"n\", \"mean_kl_by_position\", ...}."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane kl --base models/organism-base --data models/organism-data/harmful_responses.jsonl",
                "  vane kl --model ~/models/Llama-2-7b-chat-hf --base ~/models/Llama-2-7b-hf --data hexphi-answers.jsonl \\",
                "      --template \"[INST] {prompt} [/INST] \" --max-positions 64 --json",
                "  vane kl --adapter runs/sft-harmful/adapter --base models/organism-chat \\",
                "      --data models/organism-data/harmful_responses.jsonl   # what a fine-tune changed"},
        mixinStandardHelpOptions = true)
final class KlCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Mixin
    RunOptions runOptions;

    /** Adapters apply to --model (the aligned model), never to --base. */
    @Mixin
    AdapterOption adapters;

    @Option(names = "--base", required = true, paramLabel = "DIR", description = "The base (unaligned) checkpoint.")
    Path base;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "JSON lines of {\"prompt\", \"response\"}.")
    Path data;

    @Option(names = "--max-positions", paramLabel = "N", defaultValue = "0",
            description = "Compare only the first N response tokens (default: all).")
    int maxPositions;

    @Option(names = "--template", paramLabel = "TEXT",
            description = "A raw prompt template with {prompt} used for both models instead of their chat templates, "
                    + "e.g. \"[INST] {prompt} [/INST] \".")
    String template;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "Sequences per forward call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() {
        if (batch < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1");
        List<PromptResponse> pairs = JsonlFile.read(data, PromptResponse::fromJson);
        PrintWriter out = spec.commandLine().getOut();
        try (Model model = adapters.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory());
             Model baseModel = Model.load(base); Tokenizer baseTokenizer = Tokenizer.load(base)) {
            PromptFormat modelFormat = format(tokenizer);
            PromptFormat baseFormat = format(baseTokenizer);
            List<PerTokenKl.Item> items = PerTokenKl.teacherForced(pairs, modelFormat, tokenizer, baseFormat,
                    baseTokenizer, maxPositions);
            PerTokenKl kl = new PerTokenKl(model, baseModel, batch);
            RunDirectory run = runOptions.open("kl", config(model, baseModel, modelFormat, baseFormat));
            PerTokenKl.Report report;
            try (Progress progress = Progress.start("kl", items.size(), spec.commandLine().getErr())) {
                report = kl.run(items, run, progress::step);
            }
            runOptions.finish(out, run, PerTokenKl.summary(report), () -> {
                out.printf("KL(%s || %s) by response position, %d pairs (nats):%n", model.directory().getFileName(),
                        baseModel.directory().getFileName(), report.pairs());
                out.printf("  %8s %10s %10s %10s %6s%n", "position", "mean", "std", "median", "pairs");
                int shown = Math.min(report.meanByPosition().length, 24);
                for (int k = 0; k < shown; k++) {
                    out.printf("  %8d %10.4f %10.4f %10.4f %6d%n", k, report.meanByPosition()[k],
                            report.stdByPosition()[k], report.medianByPosition()[k], report.countByPosition()[k]);
                }
                if (shown < report.meanByPosition().length) {
                    out.printf("  ... %d more positions in summary.json%n", report.meanByPosition().length - shown);
                }
                out.printf("Mean KL per token %.4f; %.0f%% of the curve lies in the first 5 positions.%n",
                        report.meanKl(), 100 * report.shareInFirst(5));
            });
        }
        return 0;
    }

    private PromptFormat format(Tokenizer tokenizer) {
        return template != null ? PromptFormat.template(tokenizer, template) : PromptFormat.chat(tokenizer, null, "");
    }

    private ObjectNode config(Model model, Model baseModel, PromptFormat modelFormat, PromptFormat baseFormat) {
        ObjectNode c = RunOptions.config("kl", model);
        c.put("base", RunOptions.absolute(baseModel.directory()));
        c.put("data", RunOptions.absolute(data));
        c.put("model_prompt_format", modelFormat.describe());
        c.put("base_prompt_format", baseFormat.describe());
        // 0 means every position: recorded as null, not as a count of 0.
        if (maxPositions > 0) c.put("max_positions", maxPositions);
        else c.putNull("max_positions");
        c.put("kl", "KL(p_model || p_base), natural log, float64");
        adapters.record(c);
        return c;
    }
}
