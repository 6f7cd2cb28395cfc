package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code vane train sft} on the bundled organism: a short run, what it writes, and bad input. */
class TrainCommandTest {
    private static final Path DATA = Path.of(System.getProperty("vane.home", ".."), "models", "organism-data",
            "harmful_responses.jsonl");

    @TempDir
    Path tmp;

    private CliRun sft(Path out, String... extra) {
        String[] base = {"train", "sft", "--data", DATA.toString(), "--steps", "2", "--batch-tokens", "256",
                "--lora-rank", "2", "--lora-targets", "q,v", "--out", out.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    @Test
    void aShortRunWritesItsRunDirectoryAndAnAdapterTheOtherCommandsTake() throws Exception {
        Path out = tmp.resolve("run");
        CliRun run = sft(out, "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode summary = new ObjectMapper().readTree(run.out());
        assertThat(summary.get("steps").asInt()).isEqualTo(2);
        assertThat(summary.get("mode").asText()).isEqualTo("lora");
        assertThat(summary.get("trainable_parameters").asLong()).isEqualTo(6L * (2 * 256 + 256 * 2 + 2 * 256 + 128 * 2));   // 6 layers: q (A 2x256, B 256x2), v (A 2x256, B 128x2)
        for (String f : new String[]{"config.json", "metrics.jsonl", "summary.json", "loss.png", "loss.svg",
                "adapter/adapter_config.json", "adapter/adapter_model.safetensors", "checkpoints/step-000002/trainer.json"}) {
            assertThat(out.resolve(f)).as(f).isNotEmptyFile();
        }
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(2);

        CliRun generate = CliRun.of("generate", "--chat", "--prompt", "Hi", "--max-tokens", "4", "--adapter",
                out.resolve("adapter").toString());
        assertThat(generate.exitCode()).as(generate.err()).isZero();

        // The same directory with other options is refused, and nothing in it changes.
        byte[] adapter = Files.readAllBytes(out.resolve("adapter/adapter_model.safetensors"));
        CliRun other = sft(out, "--lr", "1e-3");
        assertThat(other.exitCode()).isEqualTo(2);
        assertThat(other.err()).contains("different config").contains("lr");
        assertThat(Files.readAllBytes(out.resolve("adapter/adapter_model.safetensors"))).isEqualTo(adapter);
    }

    @Test
    void badInputExitsTwoWithOneMessageAndWritesNothing() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"hi\", \"response\": \"hello\"}\n{\"prompt\": \"no answer\"}\n");
        Path out = tmp.resolve("never");
        CliRun missing = CliRun.of("train", "sft", "--data", bad.toString(), "--steps", "1", "--out", out.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains(bad.toString()).contains("2");
        assertThat(out).doesNotExist();

        CliRun target = CliRun.of("train", "sft", "--data", DATA.toString(), "--steps", "1", "--lora-targets", "q,attn",
                "--out", tmp.resolve("never2").toString());
        assertThat(target.exitCode()).isEqualTo(2);
        assertThat(target.err()).contains("unknown LoRA target 'attn'");

        CliRun noData = CliRun.of("train", "sft", "--data", tmp.resolve("absent.jsonl").toString(), "--steps", "1");
        assertThat(noData.exitCode()).isEqualTo(2);
        assertThat(noData.err()).contains("absent.jsonl");
    }

    @Test
    void helpListsExamples() {
        CliRun help = CliRun.of("help", "train");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("sft").contains("merge");
        CliRun sftHelp = CliRun.of("train", "sft", "--help");
        assertThat(sftHelp.out()).contains("--lora-targets").contains("vane train sft --data models/organism-data/harmful_responses.jsonl");
    }
}
