package dev.vane.lab.distribute;

import java.util.List;
import java.util.function.Consumer;

/**
 * Does a job's work items. A JVM that runs a job's tasks builds its worker once (the model loaded, the evaluation
 * set up) and hands it every task that lands there.
 *
 * <pre>{@code
 * Worker worker = (task, out) -> task.forEach(item -> out.accept(WorkLine.result(measure(item))));
 * }</pre>
 */
@FunctionalInterface
public interface Worker {
    /**
     * Does the items of one task in order, handing each line to {@code out} as soon as it is made (the local
     * executor writes it to disk there and then, so a killed run loses at most the item in progress).
     *
     * @throws dev.vane.core.InvalidInputException when an item's input is bad: the job stops with that message
     */
    void run(List<WorkItem> task, Consumer<WorkLine> out);
}
