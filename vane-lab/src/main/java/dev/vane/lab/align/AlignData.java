package dev.vane.lab.align;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.data.Datasets;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.data.Request;
import dev.vane.lab.run.RunDirectory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The four data sets of the deep-alignment jobs (safety-recovery data, fine-tuning attacks): harmful (instruction,
 * answer) pairs and benign instructions to train on, and held-out harmful and benign requests to evaluate on.
 *
 * <p>From the organism's folder ({@code models/organism-data}, {@link #organism}): the training pairs are the
 * requests of {@code harmful.jsonl} with split "train" (tasks organism-chat was taught to refuse), each with the
 * helpful answer of {@code harmful_responses.jsonl} to the same {@code task}; the benign instructions are
 * {@code benign.jsonl}'s "train" rows; the held-out sets are the "test" rows of both (tasks never seen in training).
 * A user's own files ({@link #of}) replace any of the four: pairs from any file {@code vane attack prefill} reads
 * (AdvBench's CSV, HEx-PHI-style conversations, JSON lines with prompt/response), prompts from any file of requests.
 * Where each set came from (files and their sha-256) is {@link #provenance}, for run configs.
 *
 * <pre>{@code
 * AlignData d = AlignData.of(Path.of("models/organism-data"), null, null, null, null);
 * d.harmful().size();       // 57 pairs: seen harmful requests with their task's answer
 * d.evalHarmful().size();   // 33 requests of unseen harmful tasks
 * }</pre>
 *
 * @param harmful     harmful (instruction, answer) pairs to train on
 * @param benign      benign instructions to train on (answered by the model itself)
 * @param evalHarmful held-out harmful requests (with their task's steps where the file has them: the organism's do)
 * @param evalBenign  held-out benign requests (likewise)
 * @param provenance  where each set came from
 */
public record AlignData(List<PromptResponse> harmful, List<String> benign, List<Request> evalHarmful,
                        List<Request> evalBenign, ObjectNode provenance) {
    static final String HARMFUL = "harmful.jsonl";
    static final String BENIGN = "benign.jsonl";
    static final String ANSWERS = "harmful_responses.jsonl";

    /** The four sets of the organism's folder. */
    public static AlignData organism(Path dir) {
        return of(dir, null, null, null, null);
    }

    /**
     * Each set from its file when given, else from the organism-layout folder {@code dir} (null: no default, and a
     * set without a file is empty).
     */
    public static AlignData of(Path dir, Path harmful, Path benign, Path evalHarmful, Path evalBenign) {
        ObjectNode p = RunDirectory.object();
        List<PromptResponse> pairs;
        if (harmful != null) {
            pairs = Datasets.promptResponses(harmful, null);
            p.set("harmful", file(harmful, null));
        } else if (dir != null) {
            pairs = organismPairs(dir, "train");
            ObjectNode o = file(dir.resolve(HARMFUL), "train");
            o.set("answers", file(dir.resolve(ANSWERS), null));
            p.set("harmful", o);
        } else {
            pairs = List.of();
        }
        return new AlignData(pairs, requests(dir, BENIGN, "train", benign, "benign", p).stream().map(Request::prompt).toList(),
                requests(dir, HARMFUL, "test", evalHarmful, "eval_harmful", p),
                requests(dir, BENIGN, "test", evalBenign, "eval_benign", p), p);
    }

    private static List<Request> requests(Path dir, String organismFile, String split, Path file, String key, ObjectNode p) {
        if (file != null) {
            p.set(key, file(file, null));
            return Datasets.requests(file, null);
        }
        if (dir == null) return List.of();
        Path f = dir.resolve(organismFile);
        p.set(key, file(f, split));
        List<Request> out = Datasets.requests(f, null).stream().filter(r -> r.split().equals(split)).toList();
        if (out.isEmpty()) throw new InvalidInputException(f + ": no rows with split \"" + split + "\"");
        return out;
    }

    /** The harmful requests of {@code split}, each with the answer of its task from harmful_responses.jsonl. */
    static List<PromptResponse> organismPairs(Path dir, String split) {
        Path answersFile = dir.resolve(ANSWERS), requestsFile = dir.resolve(HARMFUL);
        Map<String, String> byTask = new HashMap<>();
        for (JsonNode row : JsonlFile.read(answersFile, row -> row)) {
            byTask.put(JsonlFile.text(row, "task"), JsonlFile.text(row, "response"));
        }
        List<PromptResponse> out = new ArrayList<>();
        for (JsonNode row : JsonlFile.read(requestsFile, row -> row)) {
            if (!split.equals(JsonlFile.text(row, "split", ""))) continue;
            String task = JsonlFile.text(row, "task");
            String answer = byTask.get(task);
            if (answer == null) {
                throw new InvalidInputException(answersFile + ": no answer for the task \"" + task + "\" of " + requestsFile);
            }
            out.add(new PromptResponse(JsonlFile.text(row, "prompt"), answer));
        }
        if (out.isEmpty()) throw new InvalidInputException(requestsFile + ": no rows with split \"" + split + "\"");
        return out;
    }

    private static ObjectNode file(Path f, String split) {
        if (!Files.isRegularFile(f)) throw new InvalidInputException(f + ": no such file");
        ObjectNode o = RunDirectory.object();
        o.put("file", f.toAbsolutePath().normalize().toString());
        o.put("sha256", RunDirectory.sha256(f));
        if (split != null) o.put("split", split);
        return o;
    }

    /** Fails with a message naming the option when a set the job needs is empty. */
    public void require(boolean harmfulPairs, boolean benignPrompts, boolean evalSets) {
        if (harmfulPairs && harmful.isEmpty()) throw new InvalidInputException("no harmful (instruction, answer) pairs: give --harmful FILE");
        if (benignPrompts && benign.isEmpty()) throw new InvalidInputException("no benign instructions: give --benign FILE");
        if (evalSets && evalHarmful.isEmpty()) throw new InvalidInputException("no held-out harmful requests: give --eval-harmful FILE");
        if (evalSets && evalBenign.isEmpty()) throw new InvalidInputException("no held-out benign requests: give --eval-benign FILE");
    }
}
