package dev.vane.server.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.probe.ProbeFile;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The probes a server offers for gated steering, by name: every {@code NAME.safetensors} in the {@code --probes}
 * folder (written by {@code vane probe --save}), read and checked against the model once at start. A request's
 * {@code "when": {"probe": NAME, ...}} names a probe only from here, never by path.
 *
 * <pre>{@code
 * ProbeRegistry probes = ProbeRegistry.load(Path.of("probes"), model.config());
 * ProbeFile harm = probes.get("harm").orElseThrow();
 * }</pre>
 */
public final class ProbeRegistry {
    private final Map<String, ProbeFile> byName;

    private ProbeRegistry(Map<String, ProbeFile> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** No probes. */
    public static ProbeRegistry empty() {
        return new ProbeRegistry(new TreeMap<>());
    }

    /** The given probes (tests, embedding applications), checked against {@code config}. */
    public static ProbeRegistry of(ModelConfig config, ProbeFile... probes) {
        Map<String, ProbeFile> map = new TreeMap<>();
        for (ProbeFile p : probes) {
            p.validateFor(config);
            if (map.put(p.name(), p) != null) throw new InvalidInputException("two probes named " + p.name());
        }
        return new ProbeRegistry(map);
    }

    /**
     * Every {@code *.safetensors} file directly in {@code dir}, named by its file stem, each validated for {@code config}.
     *
     * @throws InvalidInputException if the folder is missing or a file is not a probe for this model
     */
    public static ProbeRegistry load(Path dir, ModelConfig config) {
        if (!Files.isDirectory(dir)) throw new InvalidInputException(dir, "no such folder of probes");
        Map<String, ProbeFile> map = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path f : files) {
                if (!Files.isRegularFile(f)) continue;
                ProbeFile p = ProbeFile.read(f);
                p.validateFor(config);
                map.put(p.name(), p);
            }
        } catch (IOException e) {
            throw new InvalidInputException(dir, "cannot list probes: " + e.getMessage());
        }
        return new ProbeRegistry(map);
    }

    /** The probe called {@code name}. */
    public Optional<ProbeFile> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Every probe, by name (sorted). */
    public Map<String, ProbeFile> all() {
        return byName;
    }
}
