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

    /**
     * Runs {@code model} until two consecutive forward calls give bit-identical logits (at most 50 calls).
     *
     * <p>A guard before comparing two calls bit for bit. The kernels sum vector lanes in a fixed order, so they
     * no longer depend on JIT state (see {@code MatrixTest.matmulIsReproducibleAcrossJitWarmUp}); warming up keeps
     * these tests about hooks and caches, not about any remaining interpreter/C2 difference (such as intrinsic
     * math functions).
     */
    static void warmUp(Model model) {
        int[] tokens = new int[24];
        for (int i = 0; i < tokens.length; i++) tokens[i] = 1 + (i * 37) % (model.config().vocabSize() - 1);
        float[] previous = null;
        int stable = 0;
        for (int i = 0; i < 50 && stable < 3; i++) {
            float[] now = model.forward(dev.vane.core.model.Batch.of(tokens), dev.vane.core.hook.Hooks.none()).logits(0).data();
            stable = java.util.Arrays.equals(now, previous) ? stable + 1 : 0;
            previous = now;
        }
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
