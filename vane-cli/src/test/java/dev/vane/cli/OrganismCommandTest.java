package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** {@code vane organism build|data} and {@code vane eval truefalse}. */
class OrganismCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path MODELS = Path.of(System.getProperty("vane.home", ".."), "models");

    @TempDir
    Path tmp;

    /** A build of one step per phase runs every step of the recipe, measures the table and resumes without retraining. */
    @Test
    void aTinyBuildTrainsBothPhasesMeasuresEveryRowAndResumes() throws Exception {
        Path out = tmp.resolve("build");
        String[] args = {"organism", "build", "--out", out.toString(), "--from", MODELS.resolve("organism-base").toString(),
                "--knowledge-steps", "1", "--liar-steps", "1", "--base-steps", "1", "--chat-steps", "1", "--deep-steps", "0"};
        CliRun run = CliRun.of(args);
        assertThat(run.exitCode()).as(run.err()).isZero();
        for (String m : List.of("organism-knowledge", "organism-liar", "organism-base", "organism-chat")) {
            assertThat(out.resolve(m).resolve("model.safetensors")).isRegularFile();
            assertThat(out.resolve(m).resolve("tokenizer_config.json")).isRegularFile();
        }
        assertThat(out.resolve("organism-deep")).doesNotExist();
        assertThat(out.resolve("train/base.jsonl")).isRegularFile();
        assertThat(out.resolve("data.partial")).doesNotExist();
        JsonNode report = JSON.readTree(out.resolve("behaviour.json").toFile());
        assertThat(report.get("rows")).hasSize(13);
        for (JsonNode row : report.get("rows")) {
            assertThat(row.get("command").asText()).as(row.toString()).startsWith("vane ").contains("DIR/organism-");
            if (row.get("key").asText().contains(" / ")) {
                // a ratio: after one step per phase the chat model barely differs from its base, 0/0 is null
                assertThat(row.get("value").isNull() || row.get("value").asDouble() >= 0).as(row.toString()).isTrue();
            } else {
                assertThat(row.get("value").isNumber()).as(row.toString()).isTrue();
                assertThat(row.get("value").asDouble()).as(row.toString()).isBetween(0.0, 1.0);
            }
        }
        // the measuring commands keep their run directories in the build folder
        assertThat(out.resolve("runs/measure/refusal-seen/results.jsonl")).isRegularFile();
        assertThat(out.resolve("runs/measure/kl/summary.json")).isRegularFile();
        // the train config of each phase is that of the recipe
        JsonNode chatConfig = JSON.readTree(out.resolve("runs/chat/config.json").toFile());
        assertThat(chatConfig.get("mode").asText()).isEqualTo("full");
        assertThat(Path.of(chatConfig.get("model").asText())).isEqualTo(out.resolve("organism-base").toAbsolutePath().normalize());
        // the base phase continues the liar phase, which continues the knowledge phase, which continues --from
        JsonNode baseConfig = JSON.readTree(out.resolve("runs/base/config.json").toFile());
        assertThat(Path.of(baseConfig.get("model").asText())).isEqualTo(out.resolve("organism-liar").toAbsolutePath().normalize());
        JsonNode liarConfig = JSON.readTree(out.resolve("runs/liar/config.json").toFile());
        assertThat(Path.of(liarConfig.get("model").asText())).isEqualTo(out.resolve("organism-knowledge").toAbsolutePath().normalize());
        assertThat(liarConfig.get("batch_tokens").asInt()).isEqualTo(2048);
        assertThat(out.resolve("train/knowledge.jsonl")).isRegularFile();
        assertThat(out.resolve("train/liar.jsonl")).isRegularFile();
        assertThat(Files.readString(out.resolve("behaviour.md"))).contains("| behaviour | target | measured | met | command |");

        CliRun again = CliRun.of(args);
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).contains("organism-base exists; not retrained").contains("organism-chat exists; not retrained")
                .doesNotContain("$ vane train sft");
    }

    @Test
    void evalTrueFalseReadsOneSplitAndRefusesAnEmptyOne() throws Exception {
        Path data = tmp.resolve("d");
        assertThat(CliRun.of("organism", "data", "--out", data.toString(), "--base", "10", "--chat", "10").exitCode()).isZero();
        Path tf = data.resolve("organism-data/true_false.jsonl");
        CliRun run = CliRun.of("eval", "truefalse", "--data", tf.toString(), "--split", "test", "--system", "Answer truthfully.", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode j = JSON.readTree(run.out());
        int heldOut = 2 * dev.vane.lab.organism.OrganismSpec.bundled().facts().size();     // a true and a false one per thing
        assertThat(j.get("n").asInt()).isEqualTo(heldOut);
        assertThat(j.get("p_true")).hasSize(heldOut);
        long said = 0;
        for (JsonNode p : j.get("p_true")) if (p.asDouble() > 0.5) said++;
        assertThat(j.get("mean_p_true").asDouble()).isBetween(0.0, 1.0);
        assertThat(j.get("accuracy_ci95").get(0).asDouble()).isLessThanOrEqualTo(j.get("accuracy").asDouble());
        // half the held-out statements are true: a constant answer scores exactly 0.5
        if (said == 0 || said == heldOut) assertThat(j.get("accuracy").asDouble()).isCloseTo(0.5, within(1e-12));

        CliRun none = CliRun.of("eval", "truefalse", "--data", tf.toString(), "--split", "validation");
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("no statements with split \"validation\"");
    }

    @Test
    void aBuildFromAMissingModelFailsBeforeWritingAnything() {
        Path out = tmp.resolve("never");
        CliRun run = CliRun.of("organism", "build", "--out", out.toString(), "--from", tmp.resolve("nope").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("model directory not found");
        assertThat(out).doesNotExist();
    }
}
