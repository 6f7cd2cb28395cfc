package dev.vane.lab.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A run directory resumes only with the config it was started with. */
class RunDirectoryTest {
    @TempDir
    Path root;

    private static ObjectNode config(long seed) {
        ObjectNode c = RunDirectory.object();
        c.put("seed", seed);                        // a long node; read back it is an int node
        c.put("temperature", 0.9f);                 // a float node; read back it is a double node
        c.putArray("tokens").add(0).add(5);
        return c;
    }

    @Test
    void sameConfigResumesWithItsResults() {
        Path dir = root.resolve("run");
        RunDirectory first = RunDirectory.openOrCreate(root, "job", dir, config(7));
        assertThat(first.resumed()).isFalse();
        assertThat(Files.isRegularFile(dir.resolve("config.json"))).isTrue();
        first.results().append(RunDirectory.object().put("id", "x"));

        RunDirectory again = RunDirectory.openOrCreate(root, "job", dir, config(7));
        assertThat(again.resumed()).isTrue();
        assertThat(again.results().isDone("x")).isTrue();
        assertThat(again.config().get("seed").asLong()).isEqualTo(7);
    }

    @Test
    void differentConfigIsRefusedNamingWhatDiffers() {
        Path dir = root.resolve("run");
        RunDirectory.openOrCreate(root, "job", dir, config(7));
        ObjectNode other = config(8);
        other.putArray("tokens").add(1);
        assertThatThrownBy(() -> RunDirectory.openOrCreate(root, "job", dir, other))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(dir + " holds a run with a different config (seed: 7 -> 8, tokens)")
                .hasMessageContaining("new --out directory");
    }

    @Test
    void resultsOfAnotherConfigAreNeverReused() throws Exception {
        Path dir = root.resolve("run");
        RunDirectory first = RunDirectory.openOrCreate(root, "job", dir, config(7));
        first.results().append(RunDirectory.object().put("id", "x").put("value", 1));
        assertThat(Files.readString(dir.resolve("results.jsonl"))).contains("\"run\":\"" + first.fingerprint() + "\"");
        // config.json deleted: a run with other options starts in the same directory ...
        Files.delete(dir.resolve("config.json"));
        RunDirectory other = RunDirectory.openOrCreate(root, "job", dir, config(8));
        assertThat(other.fingerprint()).isNotEqualTo(first.fingerprint());
        // ... and does not take the first run's line for its own
        assertThat(other.results().isDone("x")).isFalse();
        assertThat(other.results().foreign()).isEqualTo(1);
        other.results().append(RunDirectory.object().put("id", "x").put("value", 2));
        RunDirectory again = RunDirectory.openOrCreate(root, "job", dir, config(8));
        assertThat(again.results().get("x").get("value").asInt()).isEqualTo(2);
    }

    @Test
    void aLineWithoutTheRunsFingerprintIsRerun() throws Exception {
        Path dir = root.resolve("run");
        RunDirectory run = RunDirectory.openOrCreate(root, "job", dir, config(7));
        Files.writeString(dir.resolve("results.jsonl"), "{\"id\": \"x\"}\n");     // damaged by hand: an id alone
        assertThat(RunDirectory.openOrCreate(root, "job", dir, config(7)).results().isDone("x")).isFalse();
        assertThat(RunDirectory.storedSeed(dir)).isEqualTo(7L);
        assertThat(RunDirectory.storedSeed(root.resolve("none"))).isNull();
        assertThat(run.resumed()).isFalse();
    }

    @Test
    void withoutADirectoryANewTimestampedOneIsMade() {
        RunDirectory a = RunDirectory.openOrCreate(root, "attack-prefill", null, config(1));
        RunDirectory b = RunDirectory.openOrCreate(root, "attack-prefill", null, config(1));
        assertThat(a.path()).isNotEqualTo(b.path());
        assertThat(a.path().getFileName().toString()).matches("attack-prefill-\\d{8}-\\d{6}(-\\d+)?");
        assertThat(b.resumed()).isFalse();
    }

    @Test
    void summariesAreWrittenWhole() throws Exception {
        RunDirectory run = RunDirectory.openOrCreate(root, "job", root.resolve("r"), config(1));
        run.writeSummary(RunDirectory.object().put("n", 3));
        assertThat(RunDirectory.JSON.readTree(run.path("summary.json").toFile()).get("n").asInt()).isEqualTo(3);
        assertThat(run.path("summary.json.tmp")).doesNotExist();
    }
}
