package dev.vane.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Files written by the Hugging Face Python libraries (tiny random models), read with Vane. */
class HuggingFaceFilesTest {

    private static final Path HF = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)")).resolve("hf");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Element {@code index} of a tensor, decoded from the raw file bytes without using Vane's reader. */
    private static float rawValue(Path file, String tensor, long index) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer le = RawFiles.littleEndian(bytes);
        int headerLength = (int) le.getLong(0);
        JsonNode entry = MAPPER.readTree(Arrays.copyOfRange(bytes, 8, 8 + headerLength)).get(tensor);
        String dtype = entry.get("dtype").asText();
        int element = 8 + headerLength + entry.get("data_offsets").get(0).asInt()
                + (int) index * DType.valueOf(dtype).byteSize();
        return switch (dtype) {
            case "F32" -> le.getFloat(element);
            case "F16" -> Float.float16ToFloat(le.getShort(element));
            case "BF16" -> Float.intBitsToFloat((le.getShort(element) & 0xFFFF) << 16);
            default -> throw new AssertionError(dtype);
        };
    }

    @Test
    void llama2EmbeddingIsBf16() throws IOException {
        Path path = HF.resolve("llama2/model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            TensorInfo embed = file.info("model.embed_tokens.weight");
            assertThat(embed.dtype()).isEqualTo(DType.BF16);
            assertThat(embed.shape()).containsExactly(739, 64);
            assertThat(file.metadata()).containsEntry("format", "pt");

            float[] values = file.readFloats("model.embed_tokens.weight");
            assertThat(values).hasSize(739 * 64);
            long probe = 5 * 64 + 17;
            assertThat(values[(int) probe]).isEqualTo(rawValue(path, "model.embed_tokens.weight", probe)).isNotZero();
        }
    }

    @Test
    void mistralIsF16AndGemmaIsF32() throws IOException {
        Path mistral = HF.resolve("mistral/model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(mistral)) {
            assertThat(file.names()).allSatisfy(name -> assertThat(file.info(name).dtype()).isEqualTo(DType.F16));
            float[] values = file.readFloats("model.embed_tokens.weight");
            assertThat(values[1234]).isEqualTo(rawValue(mistral, "model.embed_tokens.weight", 1234)).isNotZero();
        }
        Path gemma = HF.resolve("gemma/model.safetensors");
        try (SafetensorsFile file = SafetensorsFile.open(gemma)) {
            assertThat(file.names()).allSatisfy(name -> assertThat(file.info(name).dtype()).isEqualTo(DType.F32));
            String norm = "model.layers.0.input_layernorm.weight";
            assertThat(file.info(norm).shape()).containsExactly(64);
            assertThat(file.readFloats(norm)[63]).isEqualTo(rawValue(gemma, norm, 63));
        }
    }

    @Test
    void shardedLlama3ServesTensorsFromEachShard() throws IOException {
        Path dir = HF.resolve("llama3");
        Set<String> indexed = new TreeSet<>();
        MAPPER.readTree(dir.resolve("model.safetensors.index.json").toFile()).get("weight_map")
                .fieldNames().forEachRemaining(indexed::add);

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            assertThat(checkpoint.names()).containsExactlyElementsOf(indexed);

            // First shard.
            String embed = "model.embed_tokens.weight";
            assertThat(checkpoint.info(embed).dtype()).isEqualTo(DType.BF16);
            assertThat(checkpoint.info(embed).shape()).containsExactly(700, 64);
            assertThat(checkpoint.readFloats(embed)[100])
                    .isEqualTo(rawValue(dir.resolve("model-00001-of-00002.safetensors"), embed, 100));

            // Second shard.
            String norm = "model.norm.weight";
            Path shard2 = dir.resolve("model-00002-of-00002.safetensors");
            TensorInfo info = checkpoint.info(norm);
            assertThat(info.shape()).containsExactly(64);
            assertThat(checkpoint.readFloats(norm)[7]).isEqualTo(rawValue(shard2, norm, 7));
            byte[] fromFile = Arrays.copyOfRange(Files.readAllBytes(shard2),
                    (int) info.offset(), (int) (info.offset() + info.byteSize()));
            assertThat(checkpoint.segment(norm).toArray(ValueLayout.JAVA_BYTE)).containsExactly(fromFile);
        }
    }

    @Test
    void directoryWithModelSafetensorsIgnoresReferenceFile() {
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(HF.resolve("llama2"))) {
            assertThat(checkpoint.contains("model.embed_tokens.weight")).isTrue();
            assertThat(checkpoint.info("lm_head.weight").dtype()).isEqualTo(DType.BF16);
        }
    }

    @Test
    void singleOtherSafetensorsFileIsUsed(@TempDir Path dir) throws IOException {
        Files.copy(HF.resolve("gemma/model.safetensors"), dir.resolve("weights.safetensors"));
        Files.copy(HF.resolve("gemma/reference.safetensors"), dir.resolve("reference.safetensors"));

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            assertThat(checkpoint.contains("model.embed_tokens.weight")).isTrue();
        }
    }
}
