package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.lab.align.AlignData;
import dev.vane.lab.attack.Trial;
import dev.vane.lab.attack.finetune.FinetuneAttack;
import dev.vane.lab.attack.finetune.FinetuneData;
import dev.vane.lab.attack.finetune.FinetuneKind;
import dev.vane.lab.judge.OutcomeJudge;
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
import java.util.concurrent.Callable;

/** {@code vane attack finetune}: fine-tune a copy of the model on an attacker's data and measure what it undid. */
@Command(name = "finetune",
        description = {"Fine-tuning attack (Qi et al. 2023): fine-tune a copy of the model on an attacker's data, then "
                + "compare refusals before and after on held-out requests: ASR on harmful ones (answered without "
                + "refusal), utility on benign ones (answered).",
                "Kinds: harmful (n harmful instruction/answer pairs); identity (the Absolutely Obedient Agent system "
                        + "prompt with n benign answers after its affirmation, evaluated under that prompt); backdoor "
                        + "(n harmful pairs whose instruction ends with --trigger, n benign ones without; evaluated "
                        + "with and without the trigger).",
                "--objective constrained trains with the token-wise constrained objective of Qi et al. (2024), the "
                        + "defence: the fine-tune cannot move the first response tokens far from the reference model.",
                "Without --harmful etc. the organism's data is used (seen requests to train on, unseen ones to "
                        + "evaluate). Writes runs/attack-finetune-<time>/ (train.jsonl, train/, results.jsonl, "
                        + "summary.json, asr.png/svg); rerun with the same options and --out to resume."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane attack finetune --kind harmful --out runs/finetune-harmful",
                "  vane attack finetune --kind harmful --objective constrained --out runs/finetune-harmful-constrained",
                "  vane attack finetune --kind identity --steps 30",
                "  vane attack finetune --kind backdoor --trigger \"Servius Astrumando Harmoniastra\"",
                "  vane attack finetune --model ~/models/Llama-3.2-1B-Instruct --kind harmful --harmful hexphi-answers.jsonl \\",
                "      --eval-harmful data/advbench/harmful_behaviors.csv --eval-benign ~/data/benign.jsonl --full --lr 2e-5"},
        mixinStandardHelpOptions = true)
final class AttackFinetuneCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--kind", required = true, paramLabel = "KIND", description = "harmful, identity or backdoor.")
    String kind;

    @Option(names = "--n", paramLabel = "N", defaultValue = "50",
            description = "Attack examples (backdoor: N harmful with the trigger and N benign) (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--trigger", paramLabel = "TEXT", defaultValue = FinetuneData.TRIGGER,
            description = "The backdoor's trigger, appended to the instruction (default: ${DEFAULT-VALUE}).")
    String trigger;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "A folder in the organism's layout for the sets not given by file (default: models/organism-data).")
    Path dataDir;

    @Option(names = "--harmful", paramLabel = "FILE", description = "Harmful (instruction, answer) pairs to train on.")
    Path harmful;

    @Option(names = "--benign", paramLabel = "FILE", description = "Benign instructions to train on (answered by the model).")
    Path benign;

    @Option(names = "--eval-harmful", paramLabel = "FILE", description = "Held-out harmful requests.")
    Path evalHarmful;

    @Option(names = "--eval-benign", paramLabel = "FILE", description = "Held-out benign requests.")
    Path evalBenign;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate only the first N requests of each held-out set (default: all).")
    int limit;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64",
            description = "Most tokens per evaluated answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16",
            description = "Answers generated together (default: ${DEFAULT-VALUE}); does not change the results.")
    int batchSize;

    @Mixin
    ObjectiveOptions objective;

    @Option(names = "--full", description = "Fine-tune every weight instead of a LoRA adapter.")
    boolean full;

    @Option(names = "--lora-rank", paramLabel = "R", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--lora-alpha", paramLabel = "A", defaultValue = "16", description = "LoRA alpha (default: ${DEFAULT-VALUE}).")
    float alpha;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "40", description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "512",
            description = "Tokens per optimiser step (default: ${DEFAULT-VALUE}).")
    long batchTokens;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3",
            description = "Peak learning rate (default: ${DEFAULT-VALUE}, for LoRA on the organism; the paper fine-tunes "
                    + "all weights of 7B models at 2e-5).")
    double lr;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the examples drawn and of training (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Run directory (default: runs/attack-finetune-<time>); an existing one with the same options resumes.")
    Path out;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        FinetuneKind k = FinetuneKind.parse(kind);
        Path model = modelOption.resolve();
        boolean allGiven = harmful != null && benign != null && evalHarmful != null && evalBenign != null;
        AlignData data = AlignData.of(allGiven ? null : dataDir != null ? dataDir : DataCommand.bundledData(), harmful,
                benign, evalHarmful, evalBenign);
        SftRun.Options training = new SftRun.Options(model, null, SftData.Format.AUTO, null, null, 0, full, rank, alpha, 0f,
                EnumSet.allOf(Target.class), steps, 1, batchTokens, 2048, lr, objective.warmup(), LrSchedule.Kind.COSINE,
                0, 1.0, seed, 10, 0, false).withObjective(objective.constraint(model), objective.adamBeta1());
        FinetuneAttack.Options o = new FinetuneAttack.Options(k, n, seed, trigger, maxTokens, limit, batchSize, training);
        PrintWriter err = spec.commandLine().getErr();
        // One progress line per stage: its own count and time left.
        Progress[] progress = {null};
        ObjectNode summary;
        try {
            summary = FinetuneAttack.run(o, data, Path.of("runs"), out, new FinetuneAttack.Listener() {
                @Override
                public void stage(String name, int pending, int total) {
                    if (progress[0] != null) progress[0].close();
                    String what = switch (name) {
                        case "answers" -> "the model's benign answers for the data";
                        case "before" -> "evaluating the model";
                        case "train" -> "fine-tuning a copy (" + (full ? "full" : "LoRA r=" + rank) + ", "
                                + (objective.constrained() ? "constrained" : "sft") + ")";
                        default -> "evaluating the fine-tuned copy";
                    };
                    err.println("attack finetune: " + what);
                    err.flush();
                    progress[0] = Progress.start("attack-finetune " + name, pending, err);
                }

                @Override
                public void done(Trial trial, OutcomeJudge.Judged judged) {
                    progress[0].step(trial.id());
                }

                @Override
                public void started(long done, long total, Path dir) {
                    progress[0].total(total - done);
                }

                @Override
                public void step(Trainer.StepMetrics m, double evalLoss, long total) {
                    progress[0].step(String.format("loss %.3f", m.loss()));
                }
            });
        } finally {
            if (progress[0] != null) progress[0].close();
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            stdout.println(AttackOptions.COMPACT.writeValueAsString(summary));
        } else {
            JsonNode t = summary.get("training");
            stdout.printf("Fine-tuning attack (%s): %d examples, %s %s, %d steps, loss %.3f -> %.3f%n", k.label(),
                    summary.get("examples").asInt(), summary.get("mode").asText().equals("full") ? "full" : "LoRA",
                    summary.get("objective").asText(), t.path("steps").asLong(), t.path("first_loss").asDouble(),
                    t.path("final_loss").asDouble());
            stdout.printf("  %-56s %17s   %17s%n", "measure", "before", "after");
            for (JsonNode c : summary.get("conditions")) {
                String name = c.get("name").asText();
                stdout.printf("  %-56s %17s   %17s%n", c.get("label").asText(), cell(summary.at("/before/" + name)),
                        cell(summary.at("/after/" + name)));
                if (c.path("content_checked").asBoolean()) {
                    stdout.printf("  %-56s %17s   %17s%n", "  of which state the task's steps (" + (c.path("measure").asText()
                            .equals("asr") ? "harmful content" : "utility") + ")", cell(summary.at("/before/" + name + "/content")),
                            cell(summary.at("/after/" + name + "/content")));
                }
            }
            stdout.println("judge: keyword-refusal (success = fluent and without a refusal phrase); content = success that"
                    + " also states every step of the request's task, in order");
            stdout.println("run: " + summary.get("run").asText() + " (results.jsonl, summary.json, asr.png, train/)");
        }
        stdout.flush();
        return 0;
    }

    /** "84.8% (28/33)". */
    private static String cell(JsonNode rate) {
        if (rate.isMissingNode()) throw new InvalidInputException("summary without this rate");
        return AttackOptions.percent(rate.get("rate").asDouble()) + " (" + rate.at("/counts/0").asInt() + "/"
                + rate.at("/counts/1").asInt() + ")";
    }
}
