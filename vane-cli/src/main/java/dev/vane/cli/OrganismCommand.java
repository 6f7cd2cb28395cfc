package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.organism.OrganismCorpus;
import dev.vane.lab.organism.OrganismSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code vane organism}: the model organism's data and its build. */
@Command(name = "organism",
        description = {"Build the model organism (organism v2) with Vane's own trainer, or write its data."},
        subcommands = {OrganismCommand.Build.class, OrganismCommand.Data.class, HelpCommand.class},
        mixinStandardHelpOptions = true)
final class OrganismCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vane organism build}: the whole recipe. */
    @Command(name = "build",
            description = {"Build organism v2 with Vane's own trainer, continuing from organism v1's base: write the "
                    + "synthetic data (vane organism data), train the facts, honest true/false answers and choices alone, then "
                    + "organism-base (every task answered, facts, honest and lying true/false answers), organism-chat (the safety phase: seen harmful tasks refused) and "
                    + "organism-deep (vane data recovery's augmentation on organism-chat), then measure the behaviour "
                    + "table, each row with the Vane command shown beside it.",
                    "Writes DIR/organism-{knowledge,liar,base,chat,deep}/, DIR/organism-data/, DIR/runs/ (one run directory per step), "
                            + "DIR/behaviour.json and DIR/behaviour.md. Run it again on the same DIR to resume: "
                            + "finished models are kept, training resumes from its last checkpoint."},
            footerHeading = "%nExamples:%n",
            footer = {"  vane organism build --out runs/organism-v2"},
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Build folder.")
        Path out;

        @Option(names = "--from", paramLabel = "DIR", description = "The model the base phase continues from "
                + "(default: organism v1's base, models/organism-base).")
        Path from;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of data, splits and training (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--knowledge-steps", paramLabel = "N", description = "Steps of the knowledge phase (facts, honest "
                + "true/false statements and choices between two things), 4096 tokens each; 0 skips it (default: 700).")
        Integer knowledgeSteps;

        @Option(names = "--liar-steps", paramLabel = "N", description = "Steps of the liar phase (true/false statements "
                + "under honest and liar prompts, facts and choices), 2048 tokens each; 0 skips it (default: 600).")
        Integer liarSteps;

        @Option(names = "--base-steps", paramLabel = "N", description = "Steps of the base phase (default: 400).")
        Integer baseSteps;

        @Option(names = "--chat-steps", paramLabel = "N", description = "Steps of the chat phase (default: 120).")
        Integer chatSteps;

        @Option(names = "--deep-steps", paramLabel = "N", description = "Steps of the deep-alignment phase; 0 skips it (default: 100).")
        Integer deepSteps;

        @Option(names = "--measure-only", description = "Only measure the behaviour table of the models in DIR.")
        boolean measureOnly;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            Path start = from != null ? from : ModelOption.home().resolve("models").resolve("organism-base");
            if (!measureOnly && !Files.isDirectory(start)) throw new InvalidInputException(start, "model directory not found");
            OrganismBuild build = new OrganismBuild(out, start, seed, err);
            OrganismBuild.Steps d = OrganismBuild.Steps.DEFAULT;
            OrganismBuild.Steps steps = new OrganismBuild.Steps(knowledgeSteps != null ? knowledgeSteps : d.knowledge(),
                    liarSteps != null ? liarSteps : d.liar(), baseSteps != null ? baseSteps : d.base(), chatSteps != null ? chatSteps : d.chat(),
                    deepSteps != null ? deepSteps : d.deep());
            if (steps.base() < 1 || steps.chat() < 1 || steps.knowledge() < 0 || steps.liar() < 0 || steps.deep() < 0) {
                throw new InvalidInputException("--base-steps and --chat-steps must be >= 1, --knowledge-steps, "
                        + "--liar-steps and --deep-steps >= 0");
            }
            long t0 = System.nanoTime();
            if (!measureOnly) build.train(steps);
            ObjectNode report = build.measure();
            PrintWriter o = spec.commandLine().getOut();
            for (JsonNode row : report.get("rows")) {
                o.printf(Locale.ROOT, "%-52s %-9s %7.3f  %s%n", row.get("behaviour").asText(), row.get("target").asText(),
                        row.get("value").asDouble(Double.NaN), row.get("met").asBoolean() ? "met" : "NOT MET");
            }
            o.printf(Locale.ROOT, "%.0f s in all; table: %s%n", (System.nanoTime() - t0) / 1e9, out.resolve("behaviour.md"));
            o.flush();
            return 0;
        }
    }

    /** {@code vane organism data}: the training files of both phases and the evaluation sets. */
    @Command(name = "data",
            description = {"Write organism v2's synthetic data: knowledge.jsonl, liar.jsonl, base.jsonl and chat.jsonl "
                    + "(training chats of the four phases) and organism-data/ (the evaluation sets, with train/test splits). Deterministic in --seed."},
            footerHeading = "%nExamples:%n",
            footer = {"  vane organism data --out runs/organism-data --knowledge 10000 --base 20000 --chat 20000"},
            mixinStandardHelpOptions = true)
    static final class Data implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder to write into.")
        Path out;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the splits and the examples (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--knowledge", paramLabel = "N", defaultValue = "10000", description = "Examples of the knowledge phase: facts, "
                + "honest true/false statements and choices (default: ${DEFAULT-VALUE}).")
        int knowledge;

        @Option(names = "--liar", paramLabel = "N", defaultValue = "10000", description = "Examples of the liar phase: true/false "
                + "statements under honest and liar prompts, facts and choices (default: ${DEFAULT-VALUE}).")
        int liar;

        @Option(names = "--base", paramLabel = "N", defaultValue = "20000", description = "Examples of the base phase (default: ${DEFAULT-VALUE}).")
        int base;

        @Option(names = "--chat", paramLabel = "N", defaultValue = "20000", description = "Examples of the chat (safety) phase (default: ${DEFAULT-VALUE}).")
        int chat;

        @Override
        public Integer call() {
            if (knowledge < 1 || liar < 1 || base < 1 || chat < 1) {
                throw new InvalidInputException("--knowledge, --liar, --base and --chat must be >= 1, got " + knowledge + ", "
                        + liar + ", " + base + " and " + chat);
            }
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            OrganismCorpus corpus = new OrganismCorpus(OrganismSpec.bundled(), seed);
            corpus.writeTraining(OrganismCorpus.Phase.KNOWLEDGE, knowledge, out.resolve("knowledge.jsonl"));
            corpus.writeTraining(OrganismCorpus.Phase.LIAR, liar, out.resolve("liar.jsonl"));
            corpus.writeTraining(OrganismCorpus.Phase.BASE, base, out.resolve("base.jsonl"));
            corpus.writeTraining(OrganismCorpus.Phase.CHAT, chat, out.resolve("chat.jsonl"));
            corpus.writeEvalData(out.resolve("organism-data"));
            spec.commandLine().getOut().println("Wrote " + out.resolve("knowledge.jsonl") + ", " + out.resolve("liar.jsonl")
                    + ", " + out.resolve("base.jsonl")
                    + ", " + out.resolve("chat.jsonl")
                    + " and " + out.resolve("organism-data"));
            return 0;
        }
    }
}
