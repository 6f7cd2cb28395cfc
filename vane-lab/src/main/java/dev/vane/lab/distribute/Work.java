package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.function.Supplier;

/**
 * What a job hands a {@link WorkExecutor}: its pending items grouped into tasks (a task runs on one JVM, in
 * order: a batch of trials that are generated together, or a single head of a sweep), and two ways to get a
 * worker: {@code here}, built from the objects this JVM already holds, and {@code factory} with {@code setup}, for
 * JVMs that build their own.
 *
 * <pre>{@code
 * Work work = new Work("sweep-heads", HeadSweepWorker.Factory.class, () -> setup, tasks, () -> new HeadSweepWorker(...));
 * executor.execute(work, new RunLines(run.results()));
 * }</pre>
 *
 * @param job     the job's name, for the cluster's application and messages
 * @param factory builds the worker elsewhere from {@code setup}
 * @param setup   the setup, made only when the work leaves this JVM (it may carry steering vectors)
 * @param tasks   the pending items, grouped into tasks; every item id is unique
 * @param here    the worker of this JVM
 */
public record Work(String job, Class<? extends WorkerFactory> factory, Supplier<JsonNode> setup, List<List<WorkItem>> tasks,
                   Supplier<Worker> here) {
    public Work {
        tasks = tasks.stream().map(List::copyOf).toList();
    }

    /** Items over all tasks. */
    public int items() {
        return tasks.stream().mapToInt(List::size).sum();
    }

    /** Each item in a task of its own. */
    public static List<List<WorkItem>> oneTaskEach(List<WorkItem> items) {
        return items.stream().map(List::of).toList();
    }
}
