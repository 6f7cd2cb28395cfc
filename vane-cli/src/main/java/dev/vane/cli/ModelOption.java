package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --model DIR}, defaulting to the bundled model organism, and {@code --compute f32|bf16}. */
final class ModelOption {
    /** Where the bundled organism lives, relative to Vane's home (the repository root). */
    static final String BUNDLED = "models/organism-chat";

    @Option(names = "--model", paramLabel = "DIR",
            description = "Hugging Face checkpoint directory (default: the bundled organism, " + BUNDLED + ").")
    Path model;

    @Mixin
    ComputeOption compute;

    /** The chosen directory, or the bundled organism. */
    Path resolve() {
        return model != null ? model : bundled("organism-chat");
    }

    /** A bundled model by name ({@code organism-chat}, {@code organism-base}). */
    static Path bundled(String name) {
        Path dir = home().resolve("models").resolve(name);
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException("no --model given and the bundled model was not found at " + dir
                    + " (set -Dvane.home to Vane's folder, or pass --model DIR)");
        }
        return dir;
    }

    /** Vane's folder: the {@code vane.home} system property set by the launcher, else the working directory. */
    static Path home() {
        String home = System.getProperty("vane.home");
        return home != null ? Path.of(home) : Path.of("").toAbsolutePath();
    }
}
