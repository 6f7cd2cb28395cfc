package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ParityCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    /** A writable copy of a fixture directory (config, weights, reference). */
    private Path copy(String family) throws IOException {
        Path dir = tmp.resolve(family);
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(fixture(family))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        dir.toFile().setWritable(true);
        return dir;
    }

    @Test
    void passesOnFixtureAndPrintsOneRowPerCase() {
        CliRun run = CliRun.of("parity", "--model", fixture("llama3").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("seq0", "steer_head", "patch", "batch_leftpad", "kl", "greedy_steered")
                .containsPattern("grad\\s+\\S+e-0[6-9]\\s+\\S+\\s+pass\\s+6 tensors")
                .containsPattern("tokenization\\s+0.000e\\+00\\s+0.000e\\+00\\s+pass")
                .contains("PASS: 14 passed, 0 failed");
    }

    @Test
    void jsonHasTheDocumentedFields() throws IOException {
        CliRun run = CliRun.of("parity", "--model", fixture("mistral").toString(), "--json");
        assertThat(run.exitCode()).isZero();
        JsonNode root = JSON.readTree(run.out());
        assertThat(root.get("pass").asBoolean()).isTrue();
        JsonNode first = root.get("cases").get(0);
        assertThat(first.get("name").asText()).isEqualTo("seq0");
        assertThat(first.get("max_abs_diff").asDouble()).isBetween(0.0, 1e-4);
        assertThat(first.get("tolerance").asDouble()).isGreaterThanOrEqualTo(1e-3);
        assertThat(first.get("status").asText()).isEqualTo("pass");
        JsonNode grad = null;
        for (JsonNode c : root.get("cases")) if (c.get("name").asText().equals("grad")) grad = c;
        assertThat(grad).isNotNull();
        assertThat(grad.get("status").asText()).isEqualTo("pass");
        assertThat(grad.get("max_abs_diff").asDouble()).isBetween(0.0, 1e-5);
    }

    @Test
    void aWrongGradientFailsTheGradCase() throws IOException {
        Path dir = copy("gemma2");
        rewriteTensor(dir.resolve("reference.safetensors"), "case.grad.param.model.norm.weight", v -> v[3] += 0.05f);
        CliRun run = CliRun.of("parity", "--model", dir.toString(), "--json");
        assertThat(run.exitCode()).isEqualTo(1);
        for (JsonNode c : JSON.readTree(run.out()).get("cases")) {
            if (c.get("name").asText().equals("grad")) {
                assertThat(c.get("status").asText()).isEqualTo("fail");
                assertThat(c.get("detail").asText()).contains("model.norm.weight");
            }
        }
    }

    @Test
    void aWrongReferenceValueFailsWithExitCodeOne() throws IOException {
        Path dir = copy("qwen2");
        Path ref = dir.resolve("reference.safetensors");
        rewriteTensor(ref, "case.steer_head.logits", v -> v[5] += 0.5f);
        CliRun run = CliRun.of("parity", "--model", dir.toString(), "--json");
        assertThat(run.exitCode()).isEqualTo(1);
        JsonNode root = JSON.readTree(run.out());
        assertThat(root.get("pass").asBoolean()).isFalse();
        for (JsonNode c : root.get("cases")) {
            String expected = c.get("name").asText().equals("steer_head") ? "fail"
                    : c.get("status").asText().equals("skipped") ? "skipped" : "pass";
            assertThat(c.get("status").asText()).as(c.get("name").asText()).isEqualTo(expected);
        }
    }

    @Test
    void missingPerturbedModelSkipsKl() throws IOException {
        Path dir = copy("gemma");   // tmp has no gemma-perturbed beside it
        CliRun run = CliRun.of("parity", "--model", dir.toString());
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).containsPattern("kl\\s+-\\s+-\\s+skipped\\s+no gemma-perturbed beside the model");
    }

    // ---- bad input: exit code 2 and a message naming the file and the problem ----------------------------

    @Test
    void truncatedWeights() throws IOException {
        Path dir = copy("llama2");
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(bytes, bytes.length / 2));
        assertBadInput(dir, "model.safetensors", "outside the data section");
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        Path dir = copy("llama2");
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length + 100L);
        Files.write(weights, bytes);
        assertBadInput(dir, "model.safetensors", "header length", "past the end");
    }

    @Test
    void headerNotJson() throws IOException {
        Path dir = copy("llama2");
        rewriteHeader(dir.resolve("model.safetensors"), h -> h.replaceFirst("\\{", "<"));
        assertBadInput(dir, "model.safetensors", "not JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        Path dir = copy("llama2");
        rewriteHeader(dir.resolve("model.safetensors"), h -> h.replaceFirst("\"BF16\"", "\"Q4_K\""));
        assertBadInput(dir, "model.safetensors", "unknown dtype 'Q4_K'");
    }

    @Test
    void tensorRangeOutsideTheFile() throws IOException {
        Path dir = copy("llama2");
        rewriteHeader(dir.resolve("model.safetensors"), h -> {
            try {
                ObjectNode header = (ObjectNode) JSON.readTree(h);
                ArrayNode offsets = (ArrayNode) header.get("model.norm.weight").get("data_offsets");
                long size = offsets.get(1).asLong() - offsets.get(0).asLong();
                offsets.set(0, 10_000_000L);
                offsets.set(1, 10_000_000L + size);
                return JSON.writeValueAsString(header);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        assertBadInput(dir, "model.safetensors", "model.norm.weight", "outside the data section");
    }

    @Test
    void missingTensor() throws IOException {
        Path dir = copy("llama2");
        Path weights = dir.resolve("model.safetensors");
        Path rewritten = tmp.resolve("without.safetensors");
        try (SafetensorsFile in = SafetensorsFile.open(weights)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String name : in.names()) {
                if (name.equals("model.layers.1.mlp.up_proj.weight")) continue;
                w.addRaw(name, in.info(name).dtype(), in.info(name).shape(), in.segment(name));
            }
            w.write(rewritten);
        }
        Files.move(rewritten, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertBadInput(dir, "missing tensor 'model.layers.1.mlp.up_proj.weight'");
    }

    @Test
    void shapeDisagreesWithConfig() throws IOException {
        Path dir = copy("llama2");
        editConfig(dir, c -> c.put("intermediate_size", 200));
        assertBadInput(dir, "config.json", "model.layers.0.mlp.gate_proj.weight", "[172, 64]", "[200, 64]");
    }

    @Test
    void unknownModelType() throws IOException {
        Path dir = copy("llama2");
        editConfig(dir, c -> c.put("model_type", "mamba"));
        assertBadInput(dir, "config.json", "unknown model_type 'mamba'", "llama, mistral, qwen2, qwen3, gemma, gemma2");
    }

    @Test
    void missingModelDirectoryAndMissingOption() {
        CliRun run = CliRun.of("parity", "--model", tmp.resolve("nope").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("nope").contains("not a model directory");
        CliRun noOption = CliRun.of("parity");
        assertThat(noOption.exitCode()).isEqualTo(2);
        assertThat(noOption.err()).contains("Missing required option: '--model=DIR'");
    }

    @Test
    void missingReferenceFile() throws IOException {
        Path dir = copy("llama2");
        Files.delete(dir.resolve("reference.safetensors"));
        assertBadInput(dir, "reference.safetensors", "not found");
    }

    private void assertBadInput(Path dir, String... fragments) {
        CliRun run = CliRun.of("parity", "--model", dir.toString());
        assertThat(run.exitCode()).as("exit code; stderr: " + run.err()).isEqualTo(2);
        assertThat(run.err()).startsWith("vane parity: error: ").contains(fragments).doesNotContain("\tat ");
        assertThat(run.out()).isEmpty();
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path config = dir.resolve("config.json");
        ObjectNode node = (ObjectNode) JSON.readTree(config.toFile());
        edit.accept(node);
        JSON.writeValue(config.toFile(), node);
    }

    /** Replaces a safetensors header by an edited one, keeping the data section as it was. */
    private static void rewriteHeader(Path file, java.util.function.UnaryOperator<String> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        byte[] edited = edit.apply(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + edited.length + bytes.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(edited.length).put(edited).put(bytes, 8 + (int) n, bytes.length - 8 - (int) n);
        Files.write(file, out.array());
    }

    /** Rewrites one float tensor of a safetensors file, keeping every other tensor. */
    private void rewriteTensor(Path file, String name, Consumer<float[]> edit) throws IOException {
        Path rewritten = tmp.resolve("rewritten.safetensors");
        try (SafetensorsFile in = SafetensorsFile.open(file)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : in.names()) {
                if (n.equals(name)) {
                    float[] v = in.readFloats(n);
                    edit.accept(v);
                    w.add(n, DType.F32, in.info(n).shape(), v);
                } else {
                    w.addRaw(n, in.info(n).dtype(), in.info(n).shape(), in.segment(n));
                }
            }
            w.write(rewritten);
        }
        Files.move(rewritten, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
