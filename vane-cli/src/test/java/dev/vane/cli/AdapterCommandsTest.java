package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.ModelConfig;
import dev.vane.train.lora.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --adapter DIR} on the run-time commands and {@code vane train merge}, on the bundled organism. */
class AdapterCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CHAT = Path.of(System.getProperty("vane.home", ".."), "models", "organism-chat");
    private static final String PROMPT = "How do I bake bread?";
    /** B's range for an adapter that changes what the organism says. */
    private static final float STRONG = 0.4f;

    @TempDir
    Path tmp;

    /**
     * An adapter on every linear layer with random A and B (B non-zero unless {@code bScale} is 0). The organism
     * shrugs off random low-rank noise: B within +-0.1 leaves its greedy answers unchanged, +-0.4 changes them.
     */
    private Path adapter(String name, float bScale) {
        ModelConfig c = ModelConfig.read(CHAT);
        Random random = new Random(name.hashCode());
        LoraAdapter lora = LoraAdapter.create(c, 4, 8f, 0f, EnumSet.allOf(Target.class), random);
        for (int l = 0; l < c.layers(); l++) {
            for (Target t : Target.values()) {
                float[] b = new float[t.out(c) * 4];
                for (int i = 0; i < b.length; i++) b[i] = (2 * random.nextFloat() - 1) * bScale;
                lora.setB(l, t, b);
            }
        }
        Path dir = tmp.resolve(name);
        PeftAdapter.write(lora, dir, CHAT.toAbsolutePath().normalize().toString());
        return dir;
    }

    private static JsonNode json(CliRun run) throws IOException {
        assertThat(run.exitCode()).as(run.err()).isZero();
        return JSON.readTree(run.out());
    }

    private static JsonNode generate(String... extra) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--chat", "--prompt", PROMPT, "--max-tokens", "16", "--json"));
        args.addAll(List.of(extra));
        return json(CliRun.of(args.toArray(String[]::new)));
    }

    @Test
    void badAdapterExitsTwoWithOneMessageLine() throws IOException {
        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("adapter_config.json"), "{\"peft_type\": \"IA3\", \"target_modules\": [\"q_proj\"]}");
        CliRun run = CliRun.of("generate", "--chat", "--prompt", PROMPT, "--adapter", bad.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).doesNotContain("\n")
                .startsWith("vane generate: error: " + bad.resolve("adapter_config.json") + ": ")
                .contains("peft_type");
        assertThat(run.out()).isEmpty();

        CliRun missing = CliRun.of("generate", "--prompt", PROMPT, "--adapter", tmp.resolve("nowhere").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err().strip()).doesNotContain("\n").contains(tmp.resolve("nowhere").toString());

        // Made for organism-chat, refused on organism-base (base_model_name_or_path differs).
        Path chatAdapter = adapter("chat-only", 0.05f);
        CliRun otherBase = CliRun.of("generate", "--prompt", PROMPT, "--adapter", chatAdapter.toString(),
                "--model", CHAT.resolveSibling("organism-base").toString());
        assertThat(otherBase.exitCode()).isEqualTo(2);
        assertThat(otherBase.err().strip()).doesNotContain("\n").contains("organism-chat").contains("organism-base");
    }

    @Test
    void adaptersChangeGenerationAndCombineWithSteering() throws Exception {
        JsonNode plain = generate();
        JsonNode zero = generate("--adapter", adapter("zero", 0f).toString());
        assertThat(zero.get("token_ids")).as("B = 0 adds nothing").isEqualTo(plain.get("token_ids"));

        Path strong = adapter("strong", STRONG);
        JsonNode adapted = generate("--adapter", strong.toString());
        assertThat(adapted.get("token_ids")).isNotEqualTo(plain.get("token_ids"));

        Path vector = ServeCommandTest.writeVector(tmp).resolve("push.safetensors");
        JsonNode steered = generate("--adapter", strong.toString(), "--steer", vector + ":40");
        assertThat(steered.get("token_ids")).isNotEqualTo(adapted.get("token_ids"))
                .isNotEqualTo(generate("--steer", vector + ":40").get("token_ids"));

        // Two adapters: the second one zero changes nothing.
        assertThat(generate("--adapter", strong.toString(), "--adapter", adapter("zero2", 0f).toString()).get("token_ids"))
                .isEqualTo(adapted.get("token_ids"));
    }

    @Test
    void mergeWritesACheckpointThatGeneratesLikeTheRuntimeAdapter() throws IOException {
        Path lora = adapter("to-merge", STRONG);
        Path out = tmp.resolve("merged");
        CliRun merge = CliRun.of("train", "merge", "--adapter", lora.toString(), "--out", out.toString());
        assertThat(merge.exitCode()).as(merge.err()).isZero();
        assertThat(merge.out()).contains("Merged into").contains("42 weight matrices changed").contains(out.toString());
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("tokenizer.json")).exists();

        JsonNode runtime = generate("--adapter", lora.toString());
        JsonNode merged = generate("--model", out.toString());
        assertThat(merged.get("token_ids")).isEqualTo(runtime.get("token_ids"));
        assertThat(merged.get("token_ids")).isNotEqualTo(generate().get("token_ids"));

        CliRun intoSource = CliRun.of("train", "merge", "--adapter", lora.toString(), "--out", CHAT.toString());
        assertThat(intoSource.exitCode()).isEqualTo(2);
        assertThat(intoSource.err()).contains("source model's own directory");
        CliRun wrongBase = CliRun.of("train", "merge", "--adapter", lora.toString(), "--out", tmp.resolve("m2").toString(),
                "--model", CHAT.resolveSibling("organism-base").toString());
        assertThat(wrongBase.exitCode()).isEqualTo(2);
        assertThat(wrongBase.err()).contains(lora.resolve("adapter_config.json").toString());
        assertThat(tmp.resolve("m2")).doesNotExist();

        // An adapter of a hub model that is not here: the message asks for --model.
        Path hub = tmp.resolve("hub-adapter");
        Files.createDirectories(hub);
        Files.copy(lora.resolve("adapter_model.safetensors"), hub.resolve("adapter_model.safetensors"));
        Files.writeString(hub.resolve("adapter_config.json"), Files.readString(lora.resolve("adapter_config.json"))
                .replace(JSON.writeValueAsString(CHAT.toAbsolutePath().normalize().toString()), "\"meta-llama/Llama-3.2-1B\""));
        CliRun noBase = CliRun.of("train", "merge", "--adapter", hub.toString(), "--out", tmp.resolve("m3").toString());
        assertThat(noBase.exitCode()).isEqualTo(2);
        assertThat(noBase.err()).contains("meta-llama/Llama-3.2-1B").contains("--model DIR");
    }

    @Test
    void klAppliesTheAdapterToModelOnlyAndRunConfigsRecordIt() throws IOException {
        Path data = tmp.resolve("pairs.jsonl");
        Files.write(data, Files.readAllLines(CHAT.resolveSibling("organism-data").resolve("harmful_responses.jsonl")).subList(0, 2));
        Path lora = adapter("kl", STRONG);
        Path out = tmp.resolve("kl-run");
        JsonNode s = json(CliRun.of("kl", "--base", CHAT.toString(), "--data", data.toString(), "--adapter", lora.toString(),
                "--out", out.toString(), "--json"));
        // Against its own unadapted self the KL is zero; with the adapter on --model only it is not.
        assertThat(s.get("mean_kl_by_position").get(0).asDouble()).isGreaterThan(0.01);
        JsonNode adapters = JSON.readTree(out.resolve("config.json").toFile()).get("adapters");
        assertThat(adapters.get(0).get("dir").asText()).isEqualTo(lora.toAbsolutePath().normalize().toString());
        assertThat(adapters.get(0).get("weights_sha256").asText()).hasSize(64);

        Path requests = tmp.resolve("requests.jsonl");
        Files.write(requests, Files.readAllLines(CHAT.resolveSibling("organism-data").resolve("harmful.jsonl")).subList(0, 2));
        Path evalOut = tmp.resolve("eval-run");
        CliRun eval = CliRun.of("eval", "refusal", "--data", requests.toString(), "--adapter", lora.toString(),
                "--max-tokens", "8", "--out", evalOut.toString(), "--json");
        assertThat(eval.exitCode()).as(eval.err()).isZero();
        assertThat(JSON.readTree(evalOut.resolve("config.json").toFile()).get("adapters").get(0).get("dir").asText())
                .isEqualTo(lora.toAbsolutePath().normalize().toString());
    }

    @Test
    void everyRunTimeCommandHasTheOption() {
        List<List<String>> commands = List.of(List.of("generate"), List.of("chat"), List.of("eval", "ab"),
                List.of("eval", "refusal"), List.of("attack", "prefill"), List.of("attack", "decoding"), List.of("probe"),
                List.of("kl"), List.of("serve"), List.of("train", "merge"));
        for (List<String> command : commands) {
            List<String> args = new java.util.ArrayList<>(command);
            args.add("--help");
            CliRun help = CliRun.of(args.toArray(String[]::new));
            assertThat(help.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(help.out()).as(String.join(" ", command)).contains("--adapter=DIR");
        }
    }
}
