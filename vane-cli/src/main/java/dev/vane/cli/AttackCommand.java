package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.attack.Attack;
import dev.vane.lab.attack.DecodingAttack;
import dev.vane.lab.attack.DecodingGrid;
import dev.vane.lab.attack.PrefillAttack;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vane attack}: jailbreak attacks judged for refusal, resumable, with a summary and a chart per run. */
@Command(name = "attack",
        description = {"Attack a model with harmful requests and measure how often it stops refusing.",
                "Every attack runs batched, appends each judged answer to runs/<attack>-<time>/results.jsonl, and "
                        + "writes summary.json and a chart; rerun with the same options and --out DIR to resume an "
                        + "interrupted run."},
        subcommands = {AttackCommand.Prefill.class, AttackCommand.Decoding.class, GcgCommand.class,
                AttackFinetuneCommand.class, HelpCommand.class},
        mixinStandardHelpOptions = true)
final class AttackCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vane attack prefill}: the prefilling attack, or forced prefixes. */
    @Command(name = "prefill",
            description = {"Prefilling attack (Qi et al. 2024): force the first k tokens of each harmful answer into "
                    + "the assistant turn, let the model continue, and report the attack success rate per k.",
                    "With --prefix the given texts are forced instead (an empty one is the no-prefill baseline): "
                            + "the refusal-prefix experiment on base models.",
                    "The keyword judge reads the whole answer (prefill and continuation); refusal phrases lying "
                            + "wholly inside the prefill do not count. Greedy by default; with --samples N > 1 "
                            + "the default is the paper's temperature 0.9, top-p 0.6."},
            footerHeading = "%nExamples:%n",
            footer = {
                    "  vane attack prefill --data models/organism-data/harmful_responses.jsonl --tokens 0,5,10,20,40",
                    "  vane attack prefill --data data/advbench/harmful_behaviors.csv --limit 50 --samples 5 --json",
                    "  vane attack prefill --model models/organism-base --data models/organism-data/harmful.jsonl \\",
                    "      --prefix \"\" --prefix \"I cannot\" --prefix \"I'm sorry\"",
                    "  vane attack prefill --data models/organism-data/harmful_responses.jsonl \\",
                    "      --steer vectors/antidote.safetensors --out runs/prefill-antidote",
                    "  vane attack prefill --data models/organism-data/harmful_responses.jsonl --tokens 0,5,10 --spark local[2]"},
            mixinStandardHelpOptions = true)
    static final class Prefill implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        AttackOptions options;

        @Mixin
        SamplingOptions sampling;

        @Option(names = "--tokens", split = ",", paramLabel = "K",
                description = "Numbers of response tokens to prefill (default: 0,5,10,20,40).")
        List<Integer> tokens;

        @Option(names = "--prefix", paramLabel = "TEXT",
                description = "Prefill this text instead of response tokens (repeatable; \"\" = no prefill).")
        List<String> prefixes;

        @Option(names = "--samples", paramLabel = "N", defaultValue = "1",
                description = "Answers sampled per prompt and prefill (default: ${DEFAULT-VALUE}).")
        int samples;

        @Override
        public Integer call() throws Exception {
            if (tokens != null && prefixes != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--tokens and --prefix exclude each other");
            }
            SamplingParams params = sampling.params(0);
            CommandLine.ParseResult given = spec.commandLine().getParseResult();
            // The paper samples at temperature 0.9, top-p 0.6; greedy samples would all be the same answer.
            if (samples > 1 && !given.hasMatchedOption("--temperature")) {
                params = params.withTemperature(0.9);
                if (!given.hasMatchedOption("--top-p")) params = params.withTopP(0.6);
            }
            Attack attack;
            if (prefixes != null) {
                attack = PrefillAttack.prefixes(options.prompts(), prefixes, samples, params, options.system);
            } else {
                attack = PrefillAttack.tokens(options.promptResponses(), tokens != null ? tokens : List.of(0, 5, 10, 20, 40),
                        samples, params, options.system);
            }
            ObjectNode summary = options.execute(attack, spec.commandLine().getErr());
            SamplingParams decoding = params;
            options.report(spec.commandLine().getOut(), summary, out -> {
                out.printf("Prefilling attack: %d prompts, %d answer(s) each per prefill, %s%n", summary.path("n").asInt(),
                        samples, decoding.isGreedy() ? "greedy"
                                : "temperature " + decoding.temperature() + ", top-p " + decoding.topP());
                AttackOptions.printTable(out, summary, prefixes != null ? "prefix" : "tokens",
                        prefixes != null ? "prefill" : "k (tokens)");
                AttackOptions.printFooter(out, summary, attack.chartName());
            });
            return 0;
        }
    }

    /** {@code vane attack decoding}: the decoding-parameter attack. */
    @Command(name = "decoding",
            description = {"Decoding-parameter attack (Huang et al. 2023): answer each prompt once per decoding "
                    + "setting, one parameter varied at a time, and keep the most harmful answer by the judge.",
                    "A prompt counts as broken when any setting broke it; the ASR is also given per parameter and "
                            + "per setting. Grids: paper = temperature 0.05..1 (20), top-k 1..500 (9), top-p "
                            + "0.05..1 (20); quick = temperature 0.3/0.7/1, top-k 1/10/100, top-p 0.3/0.7/1."},
            footerHeading = "%nExamples:%n",
            footer = {
                    "  vane attack decoding --data models/organism-data/harmful.jsonl --grid quick",
                    "  vane attack decoding --model ~/models/Llama-2-7b-chat-hf --data data/advbench/harmful_behaviors.csv \\",
                    "      --grid paper --max-tokens 256 --json"},
            mixinStandardHelpOptions = true)
    static final class Decoding implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        AttackOptions options;

        @Option(names = "--grid", paramLabel = "NAME", defaultValue = "paper",
                description = "paper (49 settings) or quick (9) (default: ${DEFAULT-VALUE}).")
        String grid;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128",
                description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "Seed; trial j samples with S + j (default: ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            if (maxTokens < 1) throw new InvalidInputException("--max-tokens must be >= 1, got " + maxTokens);
            DecodingGrid settings = DecodingGrid.named(grid);
            Attack attack = new DecodingAttack(options.prompts(), settings, maxTokens, seed, options.system);
            ObjectNode summary = options.execute(attack, spec.commandLine().getErr());
            options.report(spec.commandLine().getOut(), summary, out -> {
                JsonNode ci = summary.path("ci95");
                out.printf("Decoding attack (%s grid, %d settings): %d prompts, ASR %s [%s, %s] (broken by any setting)%n",
                        grid, settings.settings().size(), summary.path("n").asInt(),
                        AttackOptions.percent(summary.path("asr").asDouble()),
                        AttackOptions.percent(ci.path(0).asDouble()), AttackOptions.percent(ci.path(1).asDouble()));
                List<String> byParameter = new ArrayList<>();
                summary.path("asr_by_parameter").properties().forEach(e ->
                        byParameter.add(e.getKey() + " " + AttackOptions.percent(e.getValue().asDouble())));
                out.println("  by parameter (broken by any of its values): " + String.join(", ", byParameter));
                AttackOptions.printTable(out, summary, "setting", "setting");
                AttackOptions.printFooter(out, summary, attack.chartName());
            });
            return 0;
        }
    }
}
