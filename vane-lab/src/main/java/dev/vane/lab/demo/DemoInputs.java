package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.data.Request;
import dev.vane.lab.run.RunDirectory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The four data files the demo reads, named as in the organism's data folder:
 * <ul>
 *   <li>{@code harmful.jsonl}, {@code benign.jsonl}: requests {@code {"prompt", "split"?}}; the Antidote vector is
 *       built from the {@code train} rows and attacked on the harmful {@code test} rows. A file without
 *       train/test splits is split by row: even rows train, odd rows test.</li>
 *   <li>{@code harmful_responses.jsonl}: {@code {"prompt", "response"}} pairs (per-token KL, prefilling attack).</li>
 *   <li>{@code coordination_ab.jsonl}: A/B questions in the coordinate-other-ais format (CAA).</li>
 * </ul>
 *
 * <pre>{@code
 * DemoInputs in = DemoInputs.inDirectory(Path.of("models/organism-data"))
 *         .withAb(Path.of("data/coordinate-other-ais/coordinate-other-ais.jsonl"));
 * List<String> train = in.harmful("train");
 * }</pre>
 */
public record DemoInputs(Path harmfulFile, Path benignFile, Path responsesFile, Path abFile) {
    /** The four files under {@code dir} with the organism's names. */
    public static DemoInputs inDirectory(Path dir) {
        return new DemoInputs(dir.resolve("harmful.jsonl"), dir.resolve("benign.jsonl"),
                dir.resolve("harmful_responses.jsonl"), dir.resolve("coordination_ab.jsonl"));
    }

    /** These inputs with another harmful-requests file. */
    public DemoInputs withHarmful(Path file) {
        return new DemoInputs(file, benignFile, responsesFile, abFile);
    }

    /** These inputs with another benign-requests file. */
    public DemoInputs withBenign(Path file) {
        return new DemoInputs(harmfulFile, file, responsesFile, abFile);
    }

    /** These inputs with another (prompt, harmful response) file. */
    public DemoInputs withResponses(Path file) {
        return new DemoInputs(harmfulFile, benignFile, file, abFile);
    }

    /** These inputs with another A/B questions file. */
    public DemoInputs withAb(Path file) {
        return new DemoInputs(harmfulFile, benignFile, responsesFile, file);
    }

    /** Fails, naming the file, when one of the four is missing: before any model is loaded. */
    public void check() {
        for (Path p : List.of(harmfulFile, benignFile, responsesFile, abFile)) {
            if (!Files.isRegularFile(p)) {
                throw new InvalidInputException(p + ": no such file (the demo reads harmful.jsonl, benign.jsonl, "
                        + "harmful_responses.jsonl and coordination_ab.jsonl from --data-dir, or each from its own option)");
            }
        }
    }

    /** Harmful prompts of {@code split} ("train" or "test"; null = all). */
    public List<String> harmful(String split) {
        return harmfulRequests(split).stream().map(Request::prompt).toList();
    }

    /** Benign prompts of {@code split} ("train" or "test"; null = all). */
    public List<String> benign(String split) {
        return benignRequests(split).stream().map(Request::prompt).toList();
    }

    /** Harmful requests of {@code split}, with their tasks. */
    public List<Request> harmfulRequests(String split) {
        return requests(harmfulFile, split);
    }

    /** Benign requests of {@code split}, with their tasks and steps. */
    public List<Request> benignRequests(String split) {
        return requests(benignFile, split);
    }

    /** The (prompt, harmful response) pairs. */
    public List<PromptResponse> responses() {
        return JsonlFile.read(responsesFile, PromptResponse::fromJson);
    }

    /** The A/B questions. */
    public List<AbQuestion> abQuestions() {
        return JsonlFile.read(abFile, AbQuestion::fromJson);
    }

    /** One file as recorded in a step's config: its path and its content hash, so a changed file is not resumed. */
    static ObjectNode describe(Path file) {
        return RunDirectory.object().put("path", file.toAbsolutePath().normalize().toString())
                .put("sha256", RunDirectory.sha256(file));
    }

    private static List<Request> requests(Path file, String split) {
        List<Request> rows = JsonlFile.read(file, Request::fromJson);
        if (split == null) return rows;
        boolean labelled = rows.stream().anyMatch(r -> r.split().equals("train") || r.split().equals("test"));
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            String s = labelled ? rows.get(i).split() : (i % 2 == 0 ? "train" : "test");
            if (s.equals(split)) out.add(rows.get(i));
        }
        if (out.isEmpty()) throw new InvalidInputException(file + ": no requests in split " + split);
        return out;
    }
}
