package dev.vane.core.model;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Broken checkpoints built from the llama2 fixture: each must fail at load with a message naming the problem. */
class ModelLoadTest {
    private static final Path LLAMA2 = Fixtures.dir("llama2");

    @TempDir
    Path tmp;

    /** A tensor to write instead of the fixture's. */
    private record Replacement(DType dtype, long[] shape, byte[] bytes) {
    }

    /** Copies llama2's config.json and re-writes its weights, leaving out {@code drop} and swapping {@code replace}. */
    private Path checkpoint(Set<String> drop, Map<String, Replacement> replace) throws IOException {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        Files.copy(LLAMA2.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile weights = SafetensorsFile.open(LLAMA2.resolve("model.safetensors"))) {
            for (String name : weights.names()) {
                if (drop.contains(name)) continue;
                Replacement r = replace.get(name);
                if (r != null) {
                    writer.addRaw(name, r.dtype(), r.shape(), r.bytes());
                } else {
                    TensorInfo info = weights.info(name);
                    writer.addRaw(name, info.dtype(), info.shape(), weights.segment(name).toArray(ValueLayout.JAVA_BYTE));
                }
            }
            writer.write(dir.resolve("model.safetensors"));
        }
        return dir;
    }

    private static Replacement zeros(DType dtype, long... shape) {
        long n = dtype.byteSize();
        for (long d : shape) n *= d;
        return new Replacement(dtype, shape, new byte[(int) n]);
    }

    @Test
    void faithfulCopyLoadsAndRuns() throws IOException {
        Path dir = checkpoint(Set.of(), Map.of());
        int[] tokens = Fixtures.sequence("llama2", 2);
        try (Model copy = Model.load(dir); Model original = Model.load(LLAMA2)) {
            // not bit for bit: the two calls may straddle JIT compilation of the kernel (see Fixtures.warmUp)
            assertThat(copy.forward(Batch.of(tokens), Hooks.none()).logits(0)
                    .maxAbsDiff(original.forward(Batch.of(tokens), Hooks.none()).logits(0))).isLessThanOrEqualTo(1e-5f);
            assertThat(copy.directory()).isEqualTo(dir);
        }
    }

    @Test
    void tensorShapeDisagreeingWithConfigNamesTensorAndBothShapes() throws IOException {
        Path dir = checkpoint(Set.of(), Map.of("model.layers.1.self_attn.k_proj.weight", zeros(DType.BF16, 32, 64)));
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("model.layers.1.self_attn.k_proj.weight")
                .hasMessageContaining("[32, 64]")
                .hasMessageContaining("[64, 64]");
    }

    @Test
    void normVectorOfWrongLengthIsNamed() throws IOException {
        Path dir = checkpoint(Set.of(), Map.of("model.layers.2.input_layernorm.weight", zeros(DType.BF16, 65)));
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("model.layers.2.input_layernorm.weight")
                .hasMessageContaining("[65]")
                .hasMessageContaining("[64]");
    }

    /** A copy of the llama2 fixture in {@code name} whose config.json has {@code from} replaced by {@code to}. */
    private Path withConfigEdited(String name, String from, String to) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (var files = Files.list(LLAMA2)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Path config = dir.resolve("config.json");
        String json = Files.readString(config);
        assertThat(json).contains(from);
        Files.writeString(config, json.replace(from, to));
        return dir;
    }

    @Test
    void configEditedToDisagreeWithWeights() throws IOException {
        Path dir = withConfigEdited("edited", "\"intermediate_size\": 172", "\"intermediate_size\": 100");
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
                .hasMessageContaining("[172, 64]")
                .hasMessageContaining("[100, 64]")
                .hasMessageContaining("intermediate_size 100");
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4, 4000})
    void layerCountDisagreeingWithTheCheckpointIsNamed(int layers) throws IOException {
        Path dir = withConfigEdited("layers", "\"num_hidden_layers\": 3", "\"num_hidden_layers\": " + layers);
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("num_hidden_layers = " + layers)
                .hasMessageContaining("holds 3 decoder layers");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = checkpoint(Set.of("model.layers.2.mlp.up_proj.weight"), Map.of());
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("missing tensor 'model.layers.2.mlp.up_proj.weight'");
    }

    @Test
    void untiedModelWithoutLmHeadIsNamed() throws IOException {
        Path dir = checkpoint(Set.of("lm_head.weight"), Map.of());
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("lm_head.weight");
    }

    @Test
    void integerWeightsAreRejected() throws IOException {
        Path dir = checkpoint(Set.of(), Map.of("model.layers.0.self_attn.o_proj.weight", zeros(DType.I32, 64, 64)));
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("model.layers.0.self_attn.o_proj.weight")
                .hasMessageContaining("I32")
                .hasMessageContaining("F32, BF16 or F16");
    }

    @Test
    void integerNormWeightsAreRejected() throws IOException {
        Path dir = checkpoint(Set.of(), Map.of("model.norm.weight", zeros(DType.I32, 64)));
        assertThatThrownBy(() -> Model.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("model.norm.weight")
                .hasMessageContaining("I32");
    }

    @Test
    void notADirectory() {
        Path missing = tmp.resolve("nope");
        assertThatThrownBy(() -> Model.load(missing))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void directoryWithoutWeights() throws IOException {
        Files.copy(LLAMA2.resolve("config.json"), tmp.resolve("config.json"));
        assertThatThrownBy(() -> Model.load(tmp))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("model.safetensors");
    }

    @Test
    void directoryWithoutConfig() throws IOException {
        Files.copy(LLAMA2.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        assertThatThrownBy(() -> Model.load(tmp))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("config.json");
    }
}
