package dev.vane.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.lab.run.RunDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading run directories in tests: results by id (each id once), and the command lines of the runs compared. */
final class Runs {
    static final Path HOME = Path.of(System.getProperty("vane.home"));

    private Runs() {
    }

    /** A file of the repository's data. */
    static String data(String name) {
        return HOME.resolve("models/organism-data").resolve(name).toString();
    }

    /** The lines of {@code run}'s results.jsonl by id; fails when an id is written twice. */
    static Map<String, JsonNode> rows(Path run) throws IOException {
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(run.resolve("results.jsonl"))) {
            JsonNode node = RunDirectory.JSON.readTree(line);
            assertThat(rows.put(node.get("id").asText(), node)).as("id " + node.get("id") + " written twice in " + run).isNull();
        }
        return rows;
    }

    /** {@code run}'s summary.json. */
    static JsonNode summary(Path run) throws IOException {
        return RunDirectory.JSON.readTree(run.resolve("summary.json").toFile());
    }

    /** A head sweep on the organism: 48 heads at one scale and the baseline (49 items) on 4 questions, into {@code out}. */
    static List<String> sweep(Path out, List<String> more) {
        List<String> args = new ArrayList<>(List.of("sweep", "heads", "--data", data("coordination_ab.jsonl"), "--part", "1/2",
                "--eval-part", "6/6", "--metric", "ab-logodds", "--scales", "20", "--out", out.toString()));
        args.addAll(more);
        return args;
    }

    /** The prefilling attack on 8 harmful answers at k = 0 and 5, batches of 4 (4 tasks), into {@code out}. */
    static List<String> prefill(Path out, List<String> more) {
        List<String> args = new ArrayList<>(List.of("attack", "prefill", "--data", data("harmful_responses.jsonl"), "--limit", "8",
                "--tokens", "0,5", "--max-tokens", "24", "--batch-size", "4", "--out", out.toString()));
        args.addAll(more);
        return args;
    }
}
