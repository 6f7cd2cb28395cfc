package dev.vane.lab.distribute;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.lab.run.RunDirectory;

import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * One independent unit of a job's work (a head at a scale, a batch's trial, a request): the id of the results line
 * it writes, and what a worker needs to do it, as JSON text, so that the item can travel to another machine.
 *
 * <pre>{@code
 * WorkItem item = WorkItem.of("L3.H5@20.0", RunDirectory.object().put("layer", 3).put("head", 5).put("scale", 20f));
 * item.json().get("layer").asInt();    // 3
 * }</pre>
 *
 * @param id    the id of the line the item writes into {@code results.jsonl}
 * @param input the item's input, a JSON document
 */
public record WorkItem(String id, String input) implements Serializable {
    /** An item whose input is {@code input}. */
    public static WorkItem of(String id, JsonNode input) {
        return new WorkItem(id, input.toString());
    }

    /** The input, parsed. */
    public JsonNode json() {
        try {
            return RunDirectory.JSON.readTree(input);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
