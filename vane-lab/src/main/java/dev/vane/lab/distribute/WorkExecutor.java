package dev.vane.lab.distribute;

import dev.vane.core.InvalidInputException;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Runs a job's work items: in this JVM, one task after the other ({@link #local()}), or as the tasks of a
 * cluster ({@link #cluster}: Apache Spark, from the {@code vane-spark} module). Either way every line comes back to
 * the calling thread, where the job writes it into its run directory, so the run directory of a distributed run
 * is the one a local run writes, and each resumes the other.
 *
 * <pre>{@code
 * try (WorkExecutor executor = WorkExecutor.cluster("spark://head:7077", Map.of("spark.executor.memory", "8g"), "vane sweep heads")) {
 *     executor.execute(work, new RunLines(run.results()));
 * }
 * }</pre>
 */
public interface WorkExecutor extends AutoCloseable {
    /**
     * Runs every task of {@code work} and hands each line its workers write to {@code lines}, on the calling
     * thread. Tasks may finish in any order; a task rerun after a lost machine may hand back lines already given
     * ({@link RunLines} drops them).
     *
     * @throws InvalidInputException with the worker's own message when an item's input was bad
     */
    void execute(Work work, Consumer<WorkLine> lines);

    /** Where the work runs, for messages: {@code "this JVM"}, {@code "spark://head:7077"}. */
    String describe();

    /** Releases the cluster's resources (the local executor holds none). */
    @Override
    void close();

    /** The executor that runs every task in this JVM, in order: what every job does without {@code --spark}. */
    static WorkExecutor local() {
        return LocalExecutor.INSTANCE;
    }

    /**
     * An executor on a cluster, through the {@link WorkExecutorProvider} on the class path (the {@code vane-spark}
     * module's). Nothing of the cluster's library is loaded before this is called.
     *
     * @param master  where to run: {@code local[N]}, {@code spark://host:port}, anything Spark's master URL takes
     * @param conf    settings for the cluster ({@code spark.executor.memory=8g}, ...)
     * @param appName the application's name on the cluster
     * @throws InvalidInputException when no provider is on the class path
     */
    static WorkExecutor cluster(String master, Map<String, String> conf, String appName) {
        for (WorkExecutorProvider p : ServiceLoader.load(WorkExecutorProvider.class)) {
            return p.open(master, conf, appName);
        }
        throw new InvalidInputException("--spark " + master + ": the vane-spark module is not on the class path (the ./vane "
                + "launcher adds vane-spark/target/vane-spark.jar and vane-spark/target/lib/* when --spark is given; "
                + "build them with ./mvnw package)");
    }
}
