package dev.vane.lab.distribute;

import java.util.List;
import java.util.function.Consumer;

/** Runs every task in this JVM, in order, with the worker the job built from what it already holds. */
final class LocalExecutor implements WorkExecutor {
    static final LocalExecutor INSTANCE = new LocalExecutor();

    private LocalExecutor() {
    }

    @Override
    public void execute(Work work, Consumer<WorkLine> lines) {
        if (work.tasks().isEmpty()) return;
        Worker worker = work.here().get();
        for (List<WorkItem> task : work.tasks()) worker.run(task, lines);
    }

    @Override
    public String describe() {
        return "this JVM";
    }

    @Override
    public void close() {
    }
}
