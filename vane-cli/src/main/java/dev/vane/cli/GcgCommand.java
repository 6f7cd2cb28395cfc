package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.attack.gcg.Gcg;
import dev.vane.lab.attack.gcg.GcgRun;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code vane attack gcg}: the adversarial-suffix attack (GCG), resumable per step. */
@Command(name = "gcg",
        description = {"GCG (Zou et al. 2023): optimise an adversarial suffix after each harmful request, on Vane's own "
                + "gradients, so that the model's answer starts with the target (the data's target/response field, or "
                + "--target). Each step: the gradient with respect to the one-hot suffix tokens, the top-k tokens per "
                + "position, --batch candidates swapping --swaps positions, those that survive decode-encode scored "
                + "exactly in batched forwards sharing the prompt before the suffix, the best kept.",
                "Every --check-every steps, once the loss is at most --check-loss, the greedy answer is generated: the "
                        + "attack stops when it complies (fluent, no refusal) or starts with the target. Each answer "
                        + "with its final suffix is judged refused, complied or degenerate. --universal optimises one "
                        + "suffix for all requests; --transfer RUN applies an earlier run's suffixes instead (another "
                        + "model, an adapter, or with --steer). steps.jsonl records every step: rerun with the same "
                        + "options and --out to resume exactly where it stopped."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane attack gcg --data models/organism-data/harmful.jsonl --split test --limit 4 --target \"Sure, here is\" \\",
                "      --steps 40 --batch 64 --top-k 64 --out runs/gcg-quick",
                "  vane attack gcg --data models/organism-data/harmful.jsonl --split test --limit 4 --target \"Sure, here is\" \\",
                "      --transfer runs/gcg-quick --steer vectors/antidote.safetensors",
                "  vane attack gcg --model ~/models/Llama-2-7b-chat-hf --data data/advbench/harmful_behaviors.csv \\",
                "      --limit 20 --json"},
        mixinStandardHelpOptions = true)
final class GcgCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    AttackOptions options;

    @Option(names = "--target", paramLabel = "TEXT",
            description = "The answer start to optimise for (default: each row's target/response field).")
    String target;

    @Option(names = "--suffix-length", paramLabel = "N", defaultValue = "20", description = "Suffix tokens (default: ${DEFAULT-VALUE}).")
    int suffixLength;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "500", description = "Most steps per attack (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "512", description = "Candidates per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "256",
            description = "Replacement tokens per position, by most negative gradient (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--swaps", paramLabel = "N", defaultValue = "1", description = "Positions each candidate changes (default: ${DEFAULT-VALUE}).")
    int swaps;

    @Option(names = "--no-ascii", description = "Allow any non-special token in the suffix, not only printable ASCII.")
    boolean noAscii;

    @Option(names = "--check-every", paramLabel = "N", defaultValue = "10",
            description = "Steps between success checks once the loss is low (default: ${DEFAULT-VALUE}).")
    int checkEvery;

    @Option(names = "--check-loss", paramLabel = "L", defaultValue = "0.05",
            description = "Loss at or below which the success check runs (default: ${DEFAULT-VALUE}).")
    double checkLoss;

    @Option(names = "--mini-batch", paramLabel = "N", defaultValue = "64",
            description = "Candidates per forward call; halved when memory runs short (default: ${DEFAULT-VALUE}).")
    int miniBatch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the candidates' random choices (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "64",
            description = "Tokens of each judged answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--universal", description = "One suffix for all requests (the loss summed over them).")
    boolean universal;

    @Option(names = "--transfer", paramLabel = "RUN", description = "Apply the suffixes of an earlier gcg run directory instead of optimising.")
    Path transfer;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) throw new InvalidInputException("--max-tokens must be >= 1, got " + maxTokens);
        Gcg.Settings settings = new Gcg.Settings(suffixLength, steps, batch, topK, swaps, !noAscii, seed, checkLoss, checkEvery, miniBatch);
        if (!options.steer.specs.isEmpty() && transfer == null) {
            throw new InvalidInputException("--steer applies when suffixes are transferred (--transfer RUN); the optimisation "
                    + "runs on the model as loaded (with any --adapter)");
        }
        if (transfer != null && universal) throw new InvalidInputException("--universal and --transfer exclude each other");
        List<GcgRun.Request> requests = requests();
        PrintWriter err = spec.commandLine().getErr();
        Path modelDir = options.modelOption.resolve();
        Judge judge = options.judge();
        ObjectNode summary;
        try (Model model = options.adapters.load(modelDir); Tokenizer tokenizer = Tokenizer.load(model.directory());
             WorkExecutor executor = options.spark.open("attack gcg")) {
            Placement placement = options.placement(executor, modelDir);
            Steering steering = options.steer.steering(model.config());
            if (steering.isGated()) {
                throw new InvalidInputException("--when: gcg scores targets teacher-forced, where a gate cannot steer as in "
                        + "generation; steer without a condition");
            }
            ObjectNode own = RunDirectory.object().put("max_tokens", maxTokens);
            if (transfer != null) {
                own.put("transfer", transfer.toAbsolutePath().normalize().toString());
            } else {
                own.put("suffix_length", suffixLength).put("steps", steps).put("batch", batch).put("top_k", topK)
                        .put("swaps", swaps).put("ascii", !noAscii).put("check_every", checkEvery).put("check_loss", checkLoss)
                        .put("seed", seed).put("universal", universal);
            }
            own.put("target", target);
            RunDirectory run = RunDirectory.openOrCreate(Path.of("runs"), "attack-gcg", options.out,
                    options.baseConfig("attack-gcg", modelDir, judge, options.steer.configJson(steering), own));
            if (transfer != null) {
                Path results = transfer.resolve("results.jsonl");
                if (!Files.isRegularFile(results)) throw new InvalidInputException(transfer + ": no results.jsonl (not a gcg run directory)");
                List<JsonNode> source = ResultsLog.open(results).all();
                summary = GcgRun.transfer(model, tokenizer, requests, source, steering, maxTokens, judge, run, transfer.toString(),
                        placement);
            } else {
                int attacks = universal ? 1 : requests.size();
                try (Progress progress = Progress.start("gcg", (long) attacks * steps, err)) {
                    long[] base = {0};
                    int[] started = {0};
                    summary = GcgRun.attack(model, tokenizer, requests, settings, universal, maxTokens, judge, run, new GcgRun.Listener() {
                        @Override
                        public void attackStarted(String attack, int step, int total) {
                            base[0] = (long) started[0]++ * steps;
                            progress.stepTo(base[0] + step);
                        }

                        @Override
                        public void step(String attack, Gcg.Step step) {
                            progress.stepTo(base[0] + step.step());
                        }
                    }, placement);
                }
            }
            summary.put("run", run.path().toString());
        }
        options.report(spec.commandLine().getOut(), summary, out -> print(out, summary));
        return 0;
    }

    private List<GcgRun.Request> requests() {
        if (target != null) return options.prompts().stream().map(p -> new GcgRun.Request(p, target)).toList();
        List<PromptResponse> pairs;
        try {
            pairs = options.promptResponses();
        } catch (InvalidInputException e) {
            throw new InvalidInputException(e.getMessage() + "; GCG needs a target per request: a target/response field, or --target TEXT");
        }
        return pairs.stream().map(p -> new GcgRun.Request(p.prompt(), p.response())).toList();
    }

    private static void print(PrintWriter out, ObjectNode s) {
        Path results = Path.of(s.get("run").asText(), "results.jsonl");
        out.printf(Locale.ROOT, "GCG%s: %d requests%n", s.has("transfer") ? " (suffixes transferred from " + s.get("transfer").asText() + ")"
                : s.get("universal").asBoolean() ? " (one universal suffix)" : "", s.get("n").asInt());
        out.printf("  %-4s %-6s %-8s %-11s %s%n", "#", "steps", "loss", "verdict", "suffix");
        for (JsonNode line : ResultsLog.open(results).all()) {
            if (!line.has("suffix")) continue;
            out.printf(Locale.ROOT, "  %-4s %-6s %-8s %-11s %s%n", line.get("item").asInt(), line.path("steps").asText("-"),
                    line.has("loss") ? String.format(Locale.ROOT, "%.3f", line.get("loss").asDouble()) : "-",
                    line.get("verdict").asText(), line.get("suffix").asText());
        }
        JsonNode ci = s.get("asr_ci95");
        out.printf(Locale.ROOT, "ASR %s [%s, %s] (complied: fluent, no refusal), refused %s, degenerate %s, target start %s%n",
                AttackOptions.percent(s.get("asr").asDouble()), AttackOptions.percent(ci.get(0).asDouble()),
                AttackOptions.percent(ci.get(1).asDouble()), AttackOptions.percent(s.get("refused").asDouble()),
                AttackOptions.percent(s.get("degenerate").asDouble()), AttackOptions.percent(s.get("target_prefix_rate").asDouble()));
        if (s.has("mean_steps")) out.printf(Locale.ROOT, "mean steps %.1f, mean loss %.3f%n", s.get("mean_steps").asDouble(), s.get("mean_loss").asDouble());
        AttackOptions.printFooter(out, s, s.has("transfer") ? null : "loss-by-step");
    }
}
