package dev.vane.spark;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.Worker;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One Spark task, on an executor: the items of one task done by this JVM's worker of the job, every line kept
 * for the driver. Bad input ends the task with the worker's own message instead of an exception, so that Spark
 * does not run it again on another executor and the driver can stop with the message a local run prints.
 */
final class RemoteTask {
    private RemoteTask() {
    }

    static TaskOutcome run(String factory, String setup, List<WorkItem> task) {
        List<TaskOutcome.Line> lines = new ArrayList<>();
        Worker worker = null;
        try {
            ExecutorThreads.apply();
            // Building the worker reads the model and the setup's files: a path the executor cannot read is bad input too.
            worker = WorkerPool.borrow(factory, setup);
            worker.run(task, line -> lines.add(new TaskOutcome.Line(line.log(), line.line().toString())));
            return new TaskOutcome(lines, null);
        } catch (InvalidInputException | UncheckedIOException e) {
            return new TaskOutcome(lines, e.getMessage());
        } finally {
            if (worker != null) WorkerPool.giveBack(factory, setup, worker);
        }
    }
}
