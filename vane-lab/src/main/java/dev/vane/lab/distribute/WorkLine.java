package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A line a worker writes: its {@code "id"}-keyed JSON object and the log of the run directory it belongs in
 * ({@code results.jsonl}, or another log of the job such as GCG's {@code steps.jsonl}).
 *
 * <pre>{@code
 * out.accept(WorkLine.result(RunDirectory.object().put("id", "baseline").put("metric", 0.42)));
 * }</pre>
 *
 * @param log  the log's file name inside the run directory
 * @param line the line; it has an {@code "id"}
 */
public record WorkLine(String log, ObjectNode line) {
    /** The file name of a run's results log. */
    public static final String RESULTS = "results.jsonl";

    public WorkLine {
        if (!line.hasNonNull("id")) throw new IllegalArgumentException("a work line without \"id\": " + line);
    }

    /** A line of {@code results.jsonl}. */
    public static WorkLine result(ObjectNode line) {
        return new WorkLine(RESULTS, line);
    }

    /** The line's id. */
    public String id() {
        return line.get("id").asText();
    }
}
