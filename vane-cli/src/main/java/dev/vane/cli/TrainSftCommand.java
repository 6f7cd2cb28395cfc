package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.lab.train.SftData;
import dev.vane.lab.train.SftRun;
import dev.vane.train.optim.LrSchedule;
import dev.vane.train.run.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code vane train sft}: supervised fine-tuning with LoRA or of every weight. */
@Command(name = "sft",
        description = {"Supervised fine-tuning on chat conversations (loss on the assistant's tokens), prompt/response "
                + "pairs or raw text, with a LoRA adapter (default) or every weight (--full).",
                "Writes runs/train-sft-<time>/ with config.json, metrics.jsonl (loss, lr, grad norm, tokens/s per step), "
                        + "checkpoints/ every --save-every steps, the result (adapter/ in PEFT's layout, or model/ as a "
                        + "Hugging Face checkpoint), summary.json and loss.png/svg. Run it again with the same --out and "
                        + "options to resume after an interruption.",
                "--objective constrained is the token-wise constrained objective of Qi et al. (2024): each response "
                        + "token's cross-entropy weighted by 2(1 - sigmoid(beta (log p - log p_ref))), clamped at 1e-3, "
                        + "which holds the first tokens' probabilities near the --reference model's (default: --model) "
                        + "so a fine-tune cannot undo a refusal by changing only how answers start."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane train sft --data models/organism-data/harmful_responses.jsonl --steps 60 --lr 1e-3",
                "  vane train sft --data chats.jsonl --eval-data held-out.jsonl --eval-every 20 --lora-rank 16 \\",
                "      --lora-targets q,k,v,o --epochs 3 --out runs/my-sft",
                "  vane train sft --data models/organism-data/harmful_responses.jsonl --full --steps 40 --lr 1e-4",
                "  vane train sft --data models/organism-data/harmful_responses.jsonl --steps 60 --lr 1e-3 \\",
                "      --objective constrained --reference models/organism-chat --out runs/sft-constrained",
                "  vane generate --chat --adapter runs/my-sft/adapter --prompt \"How do I build a bomb?\""},
        mixinStandardHelpOptions = true)
final class TrainSftCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Training data: {\"messages\": [...]} lines, prompt/response pairs, {\"text\"} lines or explicit masks.")
    Path data;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "chat, text, masked or auto (from the file; default).")
    String format;

    @Option(names = "--field", paramLabel = "ROLE=NAME,...",
            description = "Which fields of prompt/response pairs hold them, e.g. prompt=goal,response=target.")
    String fields;

    @Option(names = "--eval-data", paramLabel = "FILE", description = "Held-out data for the evaluation loss.")
    Path evalData;

    @Option(names = "--eval-every", paramLabel = "N", defaultValue = "0",
            description = "Evaluation loss every N steps (default: only at the end, when --eval-data is given).")
    int evalEvery;

    @Option(names = "--max-length", paramLabel = "N", defaultValue = "0",
            description = "Refuse examples longer than N tokens (default: the model's context).")
    int maxLength;

    @Option(names = "--full", description = "Train every weight (float32 masters) instead of a LoRA adapter.")
    boolean full;

    @Option(names = "--lora-rank", paramLabel = "R", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--lora-alpha", paramLabel = "A", defaultValue = "16", description = "LoRA alpha; the term is scaled by alpha/rank (default: ${DEFAULT-VALUE}).")
    float alpha;

    @Option(names = "--lora-dropout", paramLabel = "P", defaultValue = "0", description = "Dropout on the adapter's input (default: ${DEFAULT-VALUE}).")
    float dropout;

    @Option(names = "--lora-targets", paramLabel = "LIST", defaultValue = "q,k,v,o,gate,up,down",
            description = "Linear layers to adapt among q,k,v,o,gate,up,down (default: ${DEFAULT-VALUE}).")
    String targets;

    @Mixin
    ObjectiveOptions objectiveOptions;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "0", description = "Optimiser steps (default: from --epochs).")
    long steps;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "1", description = "Passes over the data when --steps is not given (default: ${DEFAULT-VALUE}).")
    double epochs;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "2048",
            description = "Tokens per optimiser step: whole examples up to N tokens (default: ${DEFAULT-VALUE}).")
    long batchTokens;

    @Option(names = "--micro-tokens", paramLabel = "N", defaultValue = "2048",
            description = "Padded tokens per forward/backward; a step's gradients accumulate over its micro-batches (default: ${DEFAULT-VALUE}).")
    int microTokens;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "2e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--schedule", paramLabel = "KIND", defaultValue = "cosine", description = "cosine, linear or constant after the warm-up (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0", description = "AdamW's decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--clip", paramLabel = "G", defaultValue = "1.0", description = "Clip the global gradient norm to G; 0 = off (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of data order, adapter init and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--save-every", paramLabel = "N", defaultValue = "50", description = "Checkpoint every N steps, and at the end (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--recompute", description = "Activation checkpointing: keep only block inputs and recompute in the backward (less memory, ~1/3 more time).")
    boolean recompute;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: runs/train-sft-<time>); an existing one with the same options resumes.")
    Path out;

    @Option(names = "--json", description = "Print the summary as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
        Set<Target> targetSet = EnumSet.noneOf(Target.class);
        for (String t : targets.split(",")) if (!t.isBlank()) targetSet.add(Target.parse(t));
        if (targetSet.isEmpty()) throw new InvalidInputException("--lora-targets names no layer");
        boolean constrained = objectiveOptions.constrained();
        Path modelDir = modelOption.resolve();
        SftRun.Constraint constraint = objectiveOptions.constraint(modelDir);
        long warmupSteps = objectiveOptions.warmup();
        double beta1 = objectiveOptions.adamBeta1();
        SftRun.Options options = new SftRun.Options(modelDir, data, SftData.Format.parse(format), fields,
                evalData, maxLength, full, rank, alpha, dropout, targetSet, steps, epochs, batchTokens, microTokens, lr,
                warmupSteps, LrSchedule.Kind.parse(schedule), weightDecay, clip, seed, saveEvery, evalEvery, recompute)
                .withObjective(constraint, beta1);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        JsonNode summary;
        try (Progress progress = Progress.start("train", -1, spec.commandLine().getErr())) {
            // Off a terminal, train prints its own richer lines (lr, gradient norm, tokens/s) instead of Progress's.
            boolean terminal = Progress.stderrIsTerminal();
            summary = SftRun.run(options, Path.of("runs"), out, new SftRun.Listener() {
                private long total;
                private long first;
                private long startNanos;

                @Override
                public void started(long done, long total, Path dir) {
                    this.total = total;
                    this.first = done;
                    this.startNanos = System.nanoTime();
                    progress.total(total);
                    progress.resumedAt(done);
                    err.printf("vane train sft: %s%s, %d steps%s -> %s%n", full ? "full fine-tuning" : "LoRA r=" + rank,
                            constrained ? ", constrained against " + constraint.reference() + " (betas " + constraint.betas() + ")" : "",
                            total, done > 0 ? " (resuming after step " + done + ")" : "", dir);
                    err.flush();
                }

                @Override
                public void step(Trainer.StepMetrics m, double evalLoss, long total) {
                    long done = m.step() + 1;
                    String label = String.format("loss %.4f%s%s", m.loss(),
                            constrained ? String.format(" (ce %.4f, weight %.3f)", m.crossEntropy(), m.meanWeight()) : "",
                            Double.isNaN(evalLoss) ? "" : String.format(" eval %.4f", evalLoss));
                    if (terminal) progress.step(label);
                    long every = Math.max(1, total / 20);
                    if (!terminal && (done % every == 0 || done == total || !Double.isNaN(evalLoss))) {
                        double elapsed = (System.nanoTime() - startNanos) / 1e9;
                        double eta = elapsed / Math.max(1, done - first) * (total - done);
                        err.printf("step %d/%d  %s  lr %.3g  grad norm %.3g  %.0f tok/s  eta %s%n", done, total, label,
                                m.lr(), m.gradNorm(), m.tokensPerSecond(), duration(eta));
                        err.flush();
                    }
                }
            });
        }
        if (json) {
            stdout.println(summary.toPrettyString());
        } else {
            JsonNode epochs = summary.get("loss_by_epoch");
            String loss = epochs.size() >= 2
                    ? String.format("mean loss %.4f in epoch 1 -> %.4f in epoch %d", epochs.get(0).asDouble(),
                            epochs.get(epochs.size() - 1).asDouble(), epochs.size())
                    : String.format("loss %.4f at step 1 -> %.4f at the last step (steps hold different examples)",
                            summary.path("first_loss").asDouble(), summary.path("final_loss").asDouble());
            stdout.printf("Trained %d steps (%s, %d trainable parameters): %s%s%n",
                    summary.get("steps").asLong(), summary.get("mode").asText(), summary.get("trainable_parameters").asLong(),
                    loss, summary.has("final_eval_loss")
                            ? String.format(", eval loss %.4f", summary.get("final_eval_loss").asDouble()) : "");
            if (summary.has("final_cross_entropy")) {
                stdout.printf("Constrained objective: cross-entropy %.4f at step 1 -> %.4f at the last step, mean token weight %.3f%n",
                        summary.get("first_cross_entropy").asDouble(), summary.get("final_cross_entropy").asDouble(),
                        summary.get("final_mean_weight").asDouble());
            }
            stdout.printf("%.0f tokens/s; peak heap %d MiB%n", summary.get("tok_s").asDouble(), summary.get("peak_heap_mib").asLong());
            stdout.println("Result: " + summary.get("result").asText());
            stdout.println("Run directory: " + summary.get("run").asText());
        }
        stdout.flush();
        return 0;
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }

}
