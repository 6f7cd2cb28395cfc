package dev.vane.cli;

import dev.vane.lab.run.RunDirectory;
import java.nio.file.Path;

import dev.vane.core.generate.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Decoding options shared by the commands that generate text. */
final class SamplingOptions {
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens (0 = off).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling: keep tokens up to probability P (1 = off).")
    double topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P x the top probability (0 = off).")
    double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Penalise tokens already present (1 = off).")
    double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Sampling seed; the same seed gives the same output "
            + "(default: random, printed with --json; 0 for attacks, whose reruns must match to resume).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the output contains TEXT (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplingParams params() {
        return params(new java.security.SecureRandom().nextLong() >>> 16);
    }

    /**
     * The settings for a job that may resume {@code out}: without --seed, the seed that run drew and recorded
     * in its config.json (so that a rerun after a kill resumes instead of refusing a "different config"), or a
     * new random one when there is no such run.
     */
    SamplingParams paramsResuming(Path out) {
        if (seed == null && out != null) {
            Long stored = RunDirectory.storedSeed(out);
            if (stored != null) return params(stored);
        }
        return params();
    }

    /** The settings, with {@code defaultSeed} when no --seed is given (jobs that resume need a fixed seed). */
    SamplingParams params(long defaultSeed) {
        long s = seed != null ? seed : defaultSeed;
        return new SamplingParams(maxTokens, temperature, topK, topP, minP, repetitionPenalty, s, stop);
    }
}
