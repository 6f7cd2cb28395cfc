package dev.vane.lab.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;

import java.util.ArrayList;
import java.util.List;

/**
 * A request to a chat model (the organism's harmful.jsonl and benign.jsonl rows): the prompt, its category, its
 * split ("train" = tasks seen in training, "test" = unseen; empty when the dataset has none), its task (the
 * family several phrasings share; empty when unknown) and the steps a useful answer states (empty when unknown;
 * the organism's benign tasks have them, see {@code dev.vane.lab.eval.TaskUtility}).
 */
public record Request(String prompt, String category, String split, String task, List<String> steps) {
    public Request {
        if (prompt.isBlank()) throw new IllegalArgumentException("empty prompt");
        steps = List.copyOf(steps);
    }

    /** A request with no task or steps. */
    public Request(String prompt, String category, String split) {
        this(prompt, category, split, "", List.of());
    }

    /** The row {@link #fromJson} reads. */
    public ObjectNode json() {
        ObjectNode o = JsonNodeFactory.instance.objectNode().put("prompt", prompt).put("category", category)
                .put("split", split).put("task", task);
        ArrayNode list = o.putArray("steps");
        steps.forEach(list::add);
        return o;
    }

    /** Reads {@code {"prompt", "category"?, "split"?, "task"?, "steps"?: [text, ...]}}. */
    public static Request fromJson(JsonNode row) {
        return new Request(JsonlFile.text(row, "prompt"), JsonlFile.text(row, "category", ""),
                JsonlFile.text(row, "split", ""), JsonlFile.text(row, "task", ""), steps(row));
    }

    /** A row's {@code "steps"} list (empty when the row has none); anything but a list of non-empty strings fails. */
    public static List<String> steps(JsonNode row) {
        List<String> steps = new ArrayList<>();
        JsonNode s = row.path("steps");
        if (!s.isMissingNode() && !s.isNull()) {
            if (!s.isArray()) throw new InvalidInputException("\"steps\" must be a list of strings, got " + s);
            for (JsonNode step : s) {
                if (!step.isTextual() || step.asText().isBlank()) {
                    throw new InvalidInputException("\"steps\" must hold non-empty strings, got " + step);
                }
                steps.add(step.asText());
            }
        }
        return steps;
    }
}
