package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code train sft --objective constrained}, {@code data recovery} and {@code attack finetune}: options and bad input. */
class DeepAlignmentCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DATA = Path.of(System.getProperty("vane.home", ".."), "models", "organism-data",
            "harmful_responses.jsonl");

    @TempDir
    Path tmp;

    @Test
    void theConstrainedObjectiveTakesThePapersOptimiserDefaultsAndLogsItsWeights() throws Exception {
        Path out = tmp.resolve("run");
        CliRun run = CliRun.of("train", "sft", "--data", DATA.toString(), "--steps", "2", "--batch-tokens", "256",
                "--lora-rank", "2", "--lora-targets", "q,v", "--objective", "constrained", "--betas", "1,3,0.2",
                "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("Constrained objective: cross-entropy");
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertThat(config.get("objective").asText()).isEqualTo("constrained");
        assertThat(config.get("betas").asText()).isEqualTo("1,3,0.2");
        assertThat(config.get("adam_beta1").asDouble()).isEqualTo(0.5);
        assertThat(config.get("warmup").asLong()).isEqualTo(10);
        assertThat(config.get("min_weight").asDouble()).isEqualTo(1e-3);
        assertThat(Path.of(config.get("reference").asText()).getFileName().toString()).isEqualTo("organism-chat");
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertThat(metrics).hasSize(2);
        JsonNode first = JSON.readTree(metrics.getFirst());
        assertThat(first.get("mean_weight").asDouble()).isBetween(0.999, 1.001);
        assertThat(first.get("lr").asDouble()).isZero();          // the first warm-up step

        // plain SFT keeps its config as before: no objective keys
        Path plain = tmp.resolve("plain");
        CliRun sft = CliRun.of("train", "sft", "--data", DATA.toString(), "--steps", "1", "--batch-tokens", "256",
                "--lora-rank", "2", "--lora-targets", "q", "--out", plain.toString());
        assertThat(sft.exitCode()).as(sft.err()).isZero();
        JsonNode plainConfig = JSON.readTree(plain.resolve("config.json").toFile());
        assertThat(plainConfig.has("objective")).isFalse();
        assertThat(plainConfig.has("adam_beta1")).isFalse();
        assertThat(plainConfig.get("warmup").asLong()).isZero();
    }

    @Test
    void badObjectiveOptionsExitTwoWithOneMessage() {
        String[] base = {"train", "sft", "--data", DATA.toString(), "--steps", "1", "--out", tmp.resolve("never").toString()};
        CliRun unknown = CliRun.of(concat(base, "--objective", "dpo"));
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown --objective \"dpo\" (sft or constrained)");
        CliRun reference = CliRun.of(concat(base, "--reference", "models/organism-chat"));
        assertThat(reference.exitCode()).isEqualTo(2);
        assertThat(reference.err()).contains("--reference is for --objective constrained");
        CliRun betas = CliRun.of(concat(base, "--objective", "constrained", "--betas", "0.5,two"));
        assertThat(betas.exitCode()).isEqualTo(2);
        assertThat(betas.err()).contains("--betas takes numbers");
        CliRun missing = CliRun.of(concat(base, "--objective", "constrained", "--reference", tmp.resolve("nowhere").toString()));
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("nowhere").contains("reference model directory not found");
        assertThat(tmp.resolve("never")).doesNotExist();
    }

    @Test
    void dataAndAttackCommandsRefuseBadInputWithExitTwo() {
        CliRun file = CliRun.of("data", "recovery", "--harmful", tmp.resolve("absent.jsonl").toString(),
                "--out", tmp.resolve("never").toString());
        assertThat(file.exitCode()).isEqualTo(2);
        assertThat(file.err()).contains("absent.jsonl");
        CliRun ratio = CliRun.of("data", "recovery", "--anchor-ratio", "-1", "--out", tmp.resolve("never").toString());
        assertThat(ratio.exitCode()).isEqualTo(2);
        assertThat(ratio.err()).contains("--anchor-ratio must be >= 0");
        assertThat(tmp.resolve("never")).doesNotExist();

        CliRun kind = CliRun.of("attack", "finetune", "--kind", "poison");
        assertThat(kind.exitCode()).isEqualTo(2);
        assertThat(kind.err()).contains("unknown --kind \"poison\" (harmful, identity or backdoor)");
        CliRun tooMany = CliRun.of("attack", "finetune", "--kind", "harmful", "--n", "500", "--out",
                tmp.resolve("many").toString());
        assertThat(tooMany.exitCode()).isEqualTo(2);
        assertThat(tooMany.err()).contains("--n 500 but only 57 harmful pairs are available");
        assertThat(tmp.resolve("many")).doesNotExist();
    }

    private static String[] concat(String[] base, String... extra) {
        String[] out = new String[base.length + extra.length];
        System.arraycopy(base, 0, out, 0, base.length);
        System.arraycopy(extra, 0, out, base.length, extra.length);
        return out;
    }
}
