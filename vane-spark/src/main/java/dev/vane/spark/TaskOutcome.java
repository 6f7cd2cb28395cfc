package dev.vane.spark;

import java.io.Serializable;
import java.util.List;

/**
 * What a Spark task sends back to the driver: the lines its worker wrote, as JSON text, and, when an item's
 * input was bad, the worker's message (the task then counts as done, so Spark does not retry bad input; the
 * driver stops the job with that message).
 *
 * @param lines    the lines, in the order written
 * @param badInput the message of the bad input that stopped the task, or null
 */
record TaskOutcome(List<Line> lines, String badInput) implements Serializable {
    /** One line: the log it belongs in and its JSON text. */
    record Line(String log, String json) implements Serializable { }
}
