package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.function.Consumer;

/**
 * A small file (a steering vector, a probe) carried inside a job's setup, so that executors on other machines
 * need not share its path: {@link #pack} reads it into JSON, {@link #unpack} writes it once per JVM into a temporary
 * folder, under its own file name (a vector's name is its file's stem), and returns where it lies.
 *
 * <pre>{@code
 * JsonNode packed = ShippedFile.pack(Path.of("vectors/antidote.safetensors"));
 * SteeringVector v = SteeringVector.read(ShippedFile.unpack(packed));     // named "antidote", like the original
 * }</pre>
 */
public final class ShippedFile {
    private ShippedFile() {
    }

    /** {@code {"name", "sha256", "base64"}} of {@code file}. */
    public static ObjectNode pack(Path file) {
        try {
            return RunDirectory.object().put("name", file.getFileName().toString()).put("sha256", RunDirectory.sha256(file))
                    .put("base64", Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** What {@code write} writes into a file named {@code name}, packed (for objects held in memory only). */
    public static ObjectNode pack(String name, Consumer<Path> write) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vane-pack");
            Path file = dir.resolve(name);
            write.accept(file);
            ObjectNode packed = pack(file);
            Files.delete(file);
            return packed;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) dir.toFile().delete();
        }
    }

    /** The packed file, written under its name in this JVM's temporary folder (once: its path holds its hash). */
    public static Path unpack(JsonNode packed) {
        String name = packed.get("name").asText();
        if (name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new IllegalArgumentException("a shipped file's name must be a plain file name, got " + name);
        }
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "vane-shipped", packed.get("sha256").asText(), name);
        if (Files.isRegularFile(file)) return file;
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), name, ".part");
            Files.write(tmp, Base64.getDecoder().decode(packed.get("base64").asText()));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
