package dev.vane.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;

/** Paths and token sequences of the reference fixtures under {@code ${vane.fixtures}/hf}. */
final class Fixtures {
    static final Path HF = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)")).resolve("hf");

    private Fixtures() {
    }

    static Path dir(String family) {
        return HF.resolve(family);
    }

    /** {@code sequences[index]} of the family's reference.json. */
    static int[] sequence(String family, int index) {
        try {
            JsonNode seq = new ObjectMapper().readTree(dir(family).resolve("reference.json").toFile())
                    .get("sequences").get(index);
            int[] ids = new int[seq.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = seq.get(i).asInt();
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
