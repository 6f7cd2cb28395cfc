package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.align.AlignData;
import dev.vane.lab.align.PrefixLength;
import dev.vane.lab.align.RecoveryData;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vane data}: training data Vane writes itself. */
@Command(name = "data",
        description = {"Write training data sets: safety-recovery data for deep safety alignment."},
        subcommands = {DataCommand.Recovery.class, HelpCommand.class},
        mixinStandardHelpOptions = true)
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The organism's data folder, the default source of every data set. */
    static Path bundledData() {
        return ModelOption.home().resolve("models").resolve("organism-data");
    }

    /** {@code vane data recovery}: safety-recovery examples x + h[:k] -> r with utility anchors. */
    @Command(name = "recovery",
            description = {"Safety-recovery data (Qi et al. 2024): from harmful (instruction x, answer h) pairs and "
                    + "refusals r, examples x + h[:k] -> r whose assistant turn starts with the first k tokens of the "
                    + "harmful answer (no loss) and then refuses (loss); k = 0 with probability 0.5, else uniform in "
                    + "1..min(100, |h|). Mixed with utility anchors: benign instructions with the model's own answers, "
                    + "--anchor-ratio per recovery example (the paper: 64 benign per 16 safety, 4).",
                    "The refusals are the model's own answers to the bare requests (requests it does not refuse are left "
                            + "out), or --refusals FILE. Without --harmful/--benign the organism's data is used: seen "
                            + "harmful requests (split train) with their task's answer from harmful_responses.jsonl, and "
                            + "seen benign requests.",
                    "Writes runs/data-recovery-<time>/recovery.jsonl (for vane train sft --data), results.jsonl (the "
                            + "generated answers; rerun with --out to resume), summary.json and k.png/svg."},
            footerHeading = "%nExamples:%n",
            footer = {
                    "  vane data recovery --augmentations 4 --out runs/recovery",
                    "  vane train sft --data runs/recovery/recovery.jsonl --epochs 3 --lr 1e-3 --batch-tokens 2048 \\",
                    "      --out runs/organism-deep",
                    "  vane attack prefill --adapter runs/organism-deep/adapter \\",
                    "      --data models/organism-data/harmful_responses.jsonl --tokens 5,10,20,40",
                    "  vane data recovery --model ~/models/Llama-3.2-1B-Instruct --harmful hexphi-answers.jsonl \\",
                    "      --benign ~/data/benign-instructions.jsonl --augmentations 2 --out runs/recovery-llama"},
            mixinStandardHelpOptions = true)
    static final class Recovery implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOption modelOption;

        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "A folder in the organism's layout (harmful.jsonl, benign.jsonl, harmful_responses.jsonl) "
                        + "for the sets not given by file (default: the bundled models/organism-data).")
        Path dataDir;

        @Option(names = "--harmful", paramLabel = "FILE",
                description = "Harmful (instruction, answer) pairs: .csv or .jsonl with prompt/response fields, or "
                        + "HEx-PHI-style conversations.")
        Path harmful;

        @Option(names = "--benign", paramLabel = "FILE", description = "Benign instructions for the utility anchors.")
        Path benign;

        @Option(names = "--refusals", paramLabel = "FILE",
                description = "(prompt, refusal) pairs giving r for each harmful instruction (default: the model's own answers).")
        Path refusals;

        @Option(names = "--augmentations", paramLabel = "N", defaultValue = "1",
                description = "Recovery examples per triple, each with its own k (default: ${DEFAULT-VALUE}).")
        int augmentations;

        @Option(names = "--anchor-ratio", paramLabel = "R", defaultValue = "4",
                description = "Utility anchors per recovery example (default: ${DEFAULT-VALUE}, the paper's 64 / 16).")
        double anchorRatio;

        @Option(names = "--p-zero", paramLabel = "P", defaultValue = "0.5",
                description = "Probability of k = 0, no harmful prefix (default: ${DEFAULT-VALUE}).")
        double pZero;

        @Option(names = "--max-k", paramLabel = "K", defaultValue = "100",
                description = "Largest k, in tokens of the harmful answer (default: ${DEFAULT-VALUE}).")
        int maxK;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "Seed of k, the anchors' order and the file's order (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128",
                description = "Most tokens of each generated answer (default: ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16",
                description = "Answers generated together (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Mixin
        RunOptions run;

        @Override
        public Integer call() {
            AlignData data = AlignData.of(harmful == null || benign == null ? (dataDir != null ? dataDir : bundledData()) : null,
                    harmful, benign, null, null);
            RecoveryData.Options o = new RecoveryData.Options(modelOption.resolve(), refusals, augmentations, anchorRatio,
                    new PrefixLength(pZero, maxK), seed, maxTokens, batchSize);
            PrintWriter err = spec.commandLine().getErr();
            ObjectNode summary;
            try (Progress progress = Progress.start("data recovery", -1, err)) {
                summary = RecoveryData.run(o, data, Path.of("runs"), run.out, (what, done, total) -> {
                    progress.total(total);
                    progress.stepTo(done);
                });
            }
            PrintWriter out = spec.commandLine().getOut();
            if (run.json) {
                out.println(summary.toPrettyString());
            } else {
                JsonNode skipped = summary.get("skipped_not_refused");
                out.printf("Safety-recovery data: %d triples%s; %d recovery examples (k = 0 in %d, mean k %.1f otherwise, "
                                + "largest %d), %d utility anchors (%.3g per recovery example, %d of them refusals)%n",
                        summary.get("triples").asInt(),
                        skipped.isEmpty() ? "" : " (" + skipped.size() + " instructions left out: the model did not refuse them)",
                        summary.get("recovery_examples").asInt(), summary.get("k_zero").asInt(),
                        summary.get("k_mean_nonzero").asDouble(), summary.get("k_max").asInt(),
                        summary.get("anchor_examples").asInt(), anchorRatio, summary.get("anchors_refused").asInt());
                out.printf("%d examples, %d tokens, %d of them trained%n", summary.get("examples").asInt(),
                        summary.get("tokens").asLong(), summary.get("trained_tokens").asLong());
                out.println("Training data: " + summary.get("data").asText());
                out.println("Run directory: " + summary.get("run").asText());
            }
            out.flush();
            return 0;
        }
    }
}
