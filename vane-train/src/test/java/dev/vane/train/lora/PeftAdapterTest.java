package dev.vane.train.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

import static dev.vane.train.lora.AdapterFixtures.logits;
import static dev.vane.train.lora.AdapterFixtures.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PEFT-layout adapters on the bundled organism: round trip, the documented layout, and every refusal. */
class PeftAdapterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Model model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        model = Model.load(AdapterFixtures.organism("organism-chat"));
        AdapterFixtures.warmUp(model);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static String base() {
        return model.directory().toAbsolutePath().normalize().toString();
    }

    @Test
    void roundTripGivesIdenticalFactorsAndLogits() {
        LoraAdapter lora = AdapterFixtures.random(model.config(), 4, 8f, EnumSet.allOf(Target.class), 0.05f, 1);
        Path dir = tmp.resolve("adapter");
        PeftAdapter.write(lora, dir, base());
        LoraAdapter read = PeftAdapter.read(dir, model);

        assertThat(read.rank()).isEqualTo(4);
        assertThat(read.alpha()).isEqualTo(8f);
        assertThat(read.targets()).isEqualTo(EnumSet.allOf(Target.class));
        for (int l = 0; l < model.config().layers(); l++) {
            for (Target t : Target.values()) {
                assertThat(read.a(l, t)).as("A %d %s", l, t).containsExactly(lora.a(l, t));
                assertThat(read.b(l, t)).as("B %d %s", l, t).containsExactly(lora.b(l, t));
            }
        }
        float[] inMemory = logits(model.withAdapters(List.of(lora)));
        float[] fromFile = logits(model.withAdapters(List.of(read)));
        float[] plain = logits(model);
        assertThat(fromFile).containsExactly(inMemory);
        assertThat(maxAbsDiff(inMemory, plain)).as("the adapter changes the logits").isGreaterThan(0.5f);
    }

    @Test
    void layoutIsPeftsKeysAndConfigFields() throws IOException {
        LoraAdapter lora = AdapterFixtures.random(model.config(), 4, 16f, EnumSet.of(Target.V, Target.Q), 0.05f, 2);
        Path dir = tmp.resolve("layout");
        PeftAdapter.write(lora, dir, "models/organism-chat");

        // adapter_config.json, read as plain JSON: the fields PEFT's LoraConfig documents.
        JsonNode c = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(c.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(c.get("task_type").asText()).isEqualTo("CAUSAL_LM");
        assertThat(c.get("r").isInt()).isTrue();
        assertThat(c.get("r").asInt()).isEqualTo(4);
        assertThat(c.get("lora_alpha").asDouble()).isEqualTo(16.0);
        assertThat(c.get("lora_dropout").asDouble()).isEqualTo(0.0);
        List<String> modules = new ArrayList<>();
        c.get("target_modules").forEach(m -> modules.add(m.asText()));
        assertThat(modules).containsExactlyInAnyOrder("q_proj", "v_proj");
        assertThat(c.get("base_model_name_or_path").asText()).isEqualTo("models/organism-chat");
        assertThat(c.get("bias").asText()).isEqualTo("none");
        assertThat(c.get("fan_in_fan_out").asBoolean(true)).isFalse();
        assertThat(c.get("use_rslora").asBoolean(true)).isFalse();
        assertThat(c.get("use_dora").asBoolean(true)).isFalse();
        assertThat(c.get("inference_mode").asBoolean(false)).isTrue();
        assertThat(c.get("modules_to_save").isNull()).isTrue();
        assertThat(c.get("revision").isNull()).isTrue();
        assertThat(c.get("layers_to_transform").isNull()).isTrue();
        assertThat(c.get("rank_pattern").isEmpty()).isTrue();
        assertThat(c.get("alpha_pattern").isEmpty()).isTrue();

        // adapter_model.safetensors, its header parsed by hand: u64 length, JSON, data.
        byte[] bytes = Files.readAllBytes(dir.resolve("adapter_model.safetensors"));
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buf.getLong();
        JsonNode header = JSON.readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        Set<String> expected = new HashSet<>();
        int d = 256, kv = 4 * 32;
        for (int l = 0; l < 6; l++) {
            for (String m : List.of("q_proj", "v_proj")) {
                String prefix = "base_model.model.model.layers." + l + ".self_attn." + m;
                expected.add(prefix + ".lora_A.weight");
                expected.add(prefix + ".lora_B.weight");
                JsonNode a = header.get(prefix + ".lora_A.weight");
                JsonNode b = header.get(prefix + ".lora_B.weight");
                assertThat(a.get("dtype").asText()).isEqualTo("F32");
                assertThat(b.get("dtype").asText()).isEqualTo("F32");
                assertThat(JSON.convertValue(a.get("shape"), int[].class)).containsExactly(4, d);
                assertThat(JSON.convertValue(b.get("shape"), int[].class)).containsExactly(m.equals("q_proj") ? d : kv, 4);
            }
        }
        Set<String> keys = new HashSet<>();
        header.fieldNames().forEachRemaining(keys::add);
        keys.remove("__metadata__");
        assertThat(keys).isEqualTo(expected);
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");

        // The bytes of one tensor are the factor's floats, little-endian, row-major.
        JsonNode b3 = header.get("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight");
        long start = 8 + headerLength + b3.get("data_offsets").get(0).asLong();
        float[] want = lora.b(3, Target.V);
        assertThat(b3.get("data_offsets").get(1).asLong() - b3.get("data_offsets").get(0).asLong()).isEqualTo(4L * want.length);
        for (int i = 0; i < want.length; i++) {
            assertThat(buf.getFloat((int) start + 4 * i)).isEqualTo(want[i]);
        }
    }

    @Test
    void readsBf16AndF16FactorsAndPeftDefaults() throws IOException {
        LoraAdapter lora = AdapterFixtures.random(model.config(), 2, 4f, EnumSet.of(Target.O, Target.DOWN), 0.05f, 3);
        for (DType dtype : List.of(DType.BF16, DType.F16)) {
            Path dir = tmp.resolve("half-" + dtype);
            PeftAdapter.write(lora, dir, null);
            // Values exactly representable in the narrow dtype, stored in it: reading must give them back exactly.
            Map<String, float[]> narrow = new TreeMap<>();
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                for (String name : f.names()) {
                    float[] v = f.readFloats(name);
                    for (int i = 0; i < v.length; i++) {
                        v[i] = dtype == DType.BF16 ? Float.intBitsToFloat(Float.floatToRawIntBits(v[i]) & 0xFFFF0000)
                                : Float.float16ToFloat(Float.floatToFloat16(v[i]));
                    }
                    narrow.put(name, v);
                    w.add(name, dtype, f.info(name).shape(), v);
                }
            }
            w.write(dir.resolve("adapter_model.safetensors"));
            // A minimal config as PEFT's docs allow: defaults for the rest (lora_dropout 0).
            writeJson(dir, Map.of("peft_type", "LORA", "r", 2, "lora_alpha", 4, "target_modules", List.of("o_proj", "mlp.down_proj")));
            LoraAdapter read = PeftAdapter.read(dir, model);
            assertThat(read.dropout()).isZero();
            assertThat(read.targets()).containsExactlyInAnyOrder(Target.O, Target.DOWN);
            assertThat(read.b(5, Target.DOWN)).containsExactly(narrow.get(PeftAdapter.key(5, Target.DOWN, true)));
            assertThat(read.a(0, Target.O)).containsExactly(narrow.get(PeftAdapter.key(0, Target.O, false)));
        }
    }

    @Test
    void baseModelIsComparedByDirectoryNameIgnoringCase() throws IOException {
        LoraAdapter lora = AdapterFixtures.random(model.config(), 2, 4f, EnumSet.of(Target.Q), 0.05f, 4);
        for (String ok : new String[]{"organism-chat", "/elsewhere/models/ORGANISM-Chat/", "someone/Organism-Chat", "", null}) {
            Path dir = tmp.resolve("base-" + Math.abs(String.valueOf(ok).hashCode()));
            PeftAdapter.write(lora, dir, ok);
            assertThat(PeftAdapter.read(dir, model).rank()).as(ok).isEqualTo(2);
        }
        Path other = tmp.resolve("other-base");
        PeftAdapter.write(lora, other, "meta-llama/Llama-3.2-1B-Instruct");
        assertThat(PeftAdapter.baseModelNameOrPath(other)).contains("meta-llama/Llama-3.2-1B-Instruct");
        assertThat(PeftAdapter.baseModelDirectory(other)).isEmpty();
        assertRefused(other, "adapter_config.json", "Llama-3.2-1B-Instruct", "organism-chat");
        try (Model base = Model.load(AdapterFixtures.organism("organism-base"))) {
            Path chat = tmp.resolve("chat-adapter");
            PeftAdapter.write(lora, chat, base());
            assertThat(PeftAdapter.baseModelDirectory(chat)).contains(Path.of(base()));
            assertThatThrownBy(() -> PeftAdapter.read(chat, base)).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining(chat.resolve("adapter_config.json").toString()).hasMessageContaining("organism-base");
        }
    }

    @Test
    void failedWriteLeavesTheEarlierAdapter() throws IOException {
        LoraAdapter first = AdapterFixtures.random(model.config(), 2, 4f, EnumSet.of(Target.Q), 0.05f, 5);
        Path dir = tmp.resolve("kept");
        PeftAdapter.write(first, dir, base());
        byte[] weights = Files.readAllBytes(dir.resolve("adapter_model.safetensors"));
        byte[] config = Files.readAllBytes(dir.resolve("adapter_config.json"));

        LoraAdapter diverged = AdapterFixtures.random(model.config(), 4, 4f, EnumSet.of(Target.K), 0.05f, 6);
        diverged.b(2, Target.K)[7] = Float.NaN;
        assertThatThrownBy(() -> PeftAdapter.write(diverged, dir, base())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layers.2.self_attn.k_proj.lora_B");
        assertThat(Files.readAllBytes(dir.resolve("adapter_model.safetensors"))).isEqualTo(weights);
        assertThat(Files.readAllBytes(dir.resolve("adapter_config.json"))).isEqualTo(config);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("adapter_config.json", "adapter_model.safetensors");
        }
        // A good adapter replaces it completely.
        LoraAdapter second = AdapterFixtures.random(model.config(), 4, 4f, EnumSet.of(Target.K), 0.05f, 6);
        PeftAdapter.write(second, dir, base());
        assertThat(PeftAdapter.read(dir, model).b(2, Target.K)).containsExactly(second.b(2, Target.K));
    }

    // ---- bad input ------------------------------------------------------------------------------------------

    private Path good(String name) {
        LoraAdapter lora = AdapterFixtures.random(model.config(), 4, 8f, EnumSet.of(Target.Q, Target.V), 0.05f, 7);
        Path dir = tmp.resolve(name);
        PeftAdapter.write(lora, dir, base());
        return dir;
    }

    /** A good adapter whose config is edited. */
    private Path withConfig(String name, Consumer<ObjectNode> edit) throws IOException {
        Path dir = good(name);
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        edit.accept(c);
        Files.writeString(dir.resolve("adapter_config.json"), c.toString());
        return dir;
    }

    /** A good adapter whose tensors are replaced by what {@code edit} leaves in the map. */
    private Path withTensors(String name, Consumer<Map<String, Object[]>> edit) throws IOException {
        Path dir = good(name);
        Path file = dir.resolve("adapter_model.safetensors");
        Map<String, Object[]> tensors = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String n : f.names()) {
                TensorInfo info = f.info(n);
                tensors.put(n, new Object[]{info.dtype(), info.shape(), f.readFloats(n)});
            }
        }
        edit.accept(tensors);
        SafetensorsWriter w = new SafetensorsWriter();
        tensors.forEach((n, t) -> {
            if (t[0] == DType.I32) w.addRaw(n, DType.I32, (long[]) t[1], new byte[4 * ((float[]) t[2]).length]);
            else w.add(n, (DType) t[0], (long[]) t[1], (float[]) t[2]);
        });
        w.write(file);
        return dir;
    }

    private static void assertRefused(Path dir, String file, String... problem) {
        Path named = file == null ? dir : dir.resolve(file);
        var thrown = assertThatThrownBy(() -> PeftAdapter.read(dir, model)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(named + ": ");
        for (String p : problem) thrown.hasMessageContaining(p);
    }

    private static void writeJson(Path dir, Object value) throws IOException {
        Files.writeString(dir.resolve("adapter_config.json"), JSON.writeValueAsString(value));
    }

    @Test
    void missingFilesAreRefused() throws IOException {
        assertRefused(tmp.resolve("nowhere"), null, "does not exist");
        Path noConfig = good("no-config");
        Files.delete(noConfig.resolve("adapter_config.json"));
        assertRefused(noConfig, "adapter_config.json", "missing");
        Path noWeights = good("no-weights");
        Files.delete(noWeights.resolve("adapter_model.safetensors"));
        assertRefused(noWeights, "adapter_model.safetensors", "missing");
        Files.writeString(noWeights.resolve("adapter_model.bin"), "pickle");
        assertRefused(noWeights, "adapter_model.safetensors", "adapter_model.bin");
        Path notJson = good("not-json");
        Files.writeString(notJson.resolve("adapter_config.json"), "{\"peft_type\": ");
        assertRefused(notJson, "adapter_config.json", "not valid JSON");
        Path notSafetensors = good("not-safetensors");
        Files.writeString(notSafetensors.resolve("adapter_model.safetensors"), "xyz");
        assertRefused(notSafetensors, "adapter_model.safetensors");
    }

    @Test
    void unsupportedConfigsAreRefused() throws IOException {
        assertRefused(withConfig("ia3", c -> c.put("peft_type", "IA3")), "adapter_config.json", "peft_type", "IA3", "LoRA");
        assertRefused(withConfig("no-type", c -> c.remove("peft_type")), "adapter_config.json", "peft_type is missing");
        assertRefused(withConfig("seq-cls", c -> c.put("task_type", "SEQ_CLS")), "adapter_config.json", "task_type");
        assertRefused(withConfig("rslora", c -> c.put("use_rslora", true)), "adapter_config.json", "use_rslora");
        assertRefused(withConfig("dora", c -> c.put("use_dora", true)), "adapter_config.json", "use_dora", "DoRA");
        assertRefused(withConfig("rank-pattern", c -> c.putObject("rank_pattern").put("q_proj", 8)),
                "adapter_config.json", "rank_pattern");
        assertRefused(withConfig("alpha-pattern", c -> c.putObject("alpha_pattern").put("v_proj", 32)),
                "adapter_config.json", "alpha_pattern");
        assertRefused(withConfig("regex", c -> c.put("target_modules", ".*\\.(q_proj|v_proj)")),
                "adapter_config.json", "target_modules", "pattern", "list of module names");
        assertRefused(withConfig("all-linear", c -> c.put("target_modules", "all-linear")), "adapter_config.json", "all-linear");
        assertRefused(withConfig("lm-head", c -> c.putArray("target_modules").add("q_proj").add("v_proj").add("lm_head")),
                "adapter_config.json", "unknown target module", "lm_head");
        assertRefused(withConfig("layers", c -> c.putArray("layers_to_transform").add(0).add(1)),
                "adapter_config.json", "layers_to_transform");
        assertRefused(withConfig("one-layer", c -> c.put("layers_to_transform", 3)), "adapter_config.json", "layers_to_transform");
        assertRefused(withConfig("bias", c -> c.put("bias", "lora_only")), "adapter_config.json", "bias");
        assertRefused(withConfig("saved", c -> c.putArray("modules_to_save").add("lm_head")), "adapter_config.json", "modules_to_save");
        assertRefused(withConfig("conv1d", c -> c.put("fan_in_fan_out", true)), "adapter_config.json", "fan_in_fan_out");
        assertRefused(withConfig("rank-text", c -> c.put("r", "4")), "adapter_config.json", "r must be a positive integer");
        assertRefused(withConfig("rank-zero", c -> c.put("r", 0)), "adapter_config.json", "r must be a positive integer");
        assertRefused(withConfig("alpha", c -> c.put("lora_alpha", -1)), "adapter_config.json", "lora_alpha");
        assertRefused(withConfig("dropout", c -> c.put("lora_dropout", 1.5)), "adapter_config.json", "lora_dropout");
        assertRefused(withConfig("no-targets", c -> c.putArray("target_modules")), "adapter_config.json", "target_modules");
        assertRefused(withConfig("alora", c -> c.putArray("alora_invocation_tokens").add(12).add(7)),
                "adapter_config.json", "alora_invocation_tokens");
        // Fields of newer PEFT releases at their defaults are fine.
        Path newer = withConfig("newer-peft", c -> c.put("lora_bias", false).put("use_qalora", false).putNull("use_bdlora")
                .putNull("alora_invocation_tokens").putNull("exclude_modules").putNull("target_parameters")
                .putNull("trainable_token_indices").putNull("layer_replication").put("peft_version", "0.21.0"));
        assertThat(PeftAdapter.read(newer, model).rank()).isEqualTo(4);
    }

    @Test
    void tensorsThatDoNotFitAreRefused() throws IOException {
        String q0a = PeftAdapter.key(0, Target.Q, false);
        assertRefused(withTensors("missing", t -> t.remove(PeftAdapter.key(4, Target.V, true))),
                "adapter_model.safetensors", "missing tensor", PeftAdapter.key(4, Target.V, true));
        assertRefused(withTensors("dora", t -> t.put("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
                        new Object[]{DType.F32, new long[]{256}, new float[256]})),
                "adapter_model.safetensors", "unexpected tensor", "lora_magnitude_vector");
        assertRefused(withTensors("k-not-targeted", t -> t.put(PeftAdapter.key(0, Target.K, false),
                        new Object[]{DType.F32, new long[]{4, 256}, new float[4 * 256]})),
                "adapter_model.safetensors", "unexpected tensor", "k_proj");
        assertRefused(withTensors("deeper", t -> t.put("base_model.model.model.layers.6.self_attn.q_proj.lora_A.weight",
                        new Object[]{DType.F32, new long[]{4, 256}, new float[4 * 256]})),
                "adapter_model.safetensors", "layer 6", "6 layers");
        assertRefused(withTensors("transposed", t -> t.get(q0a)[1] = new long[]{256, 4}),
                "adapter_model.safetensors", q0a, "shape [256, 4]", "[4, 256]");
        assertRefused(withTensors("nan", t -> ((float[]) t.get(q0a)[2])[17] = Float.NaN),
                "adapter_model.safetensors", q0a, "NaN", "index 17");
        assertRefused(withTensors("inf", t -> ((float[]) t.get(q0a)[2])[3] = Float.NEGATIVE_INFINITY),
                "adapter_model.safetensors", "Infinity");
        assertRefused(withTensors("int", t -> t.get(q0a)[0] = DType.I32), "adapter_model.safetensors", "I32");
        // r in the config disagrees with the tensors.
        assertRefused(withConfig("rank-8", c -> c.put("r", 8)), "adapter_model.safetensors", "shape [4, 256]", "[8, 256]");
    }

    @Test
    void adaptersForAModelOfAnotherShapeFailOnShapes() {
        // Made for llama2 (4 kv heads), read for llama3 (2 kv heads): same layer count, different k_proj.
        try (Model llama2 = Model.load(AdapterFixtures.fixture("llama2"));
             Model llama3 = Model.load(AdapterFixtures.fixture("llama3"))) {
            Path dir = tmp.resolve("llama2-adapter");
            PeftAdapter.write(AdapterFixtures.random(llama2.config(), 2, 4f, EnumSet.of(Target.K), 0.1f, 8), dir, null);
            assertThat(PeftAdapter.read(dir, llama2).rank()).isEqualTo(2);
            assertThatThrownBy(() -> PeftAdapter.read(dir, llama3)).isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(dir.resolve("adapter_model.safetensors") + ": ")
                    .hasMessageContaining("k_proj.lora_B.weight").hasMessageContaining("does not fit this model");
            // The organism's adapter (6 layers) on the 3-layer fixture.
            Path organism = tmp.resolve("organism-adapter");
            PeftAdapter.write(AdapterFixtures.random(model.config(), 2, 4f, EnumSet.of(Target.Q), 0.1f, 9), organism, "");
            assertThatThrownBy(() -> PeftAdapter.read(organism, llama3)).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining(organism.resolve("adapter_model.safetensors").toString())
                    .hasMessageContaining("another shape");
        }
    }
}
