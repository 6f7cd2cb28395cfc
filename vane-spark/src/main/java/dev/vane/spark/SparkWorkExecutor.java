package dev.vane.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.distribute.Work;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.run.RunDirectory;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;
import scala.util.Try;

import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a job's tasks on Apache Spark: one Spark task (one partition) per Vane task, the job's setup broadcast once
 * to every executor, each executor building the job's worker once ({@link WorkerPool}) and keeping its model for
 * every later task. Each task's lines come back to the driver as the task finishes and are handed over on the
 * calling thread, so the job writes them into its run directory while the others still run. A task lost with its
 * executor is run again elsewhere by Spark; the job's {@link dev.vane.lab.distribute.RunLines} drops a line that
 * comes back twice.
 *
 * <pre>{@code
 * try (WorkExecutor spark = SparkWorkExecutor.start("spark://head:7077", Map.of(), "vane attack prefill")) {
 *     spark.execute(work, new RunLines(run.results()));
 * }
 * }</pre>
 */
final class SparkWorkExecutor implements WorkExecutor {
    private final JavaSparkContext spark;
    private final String master;

    private SparkWorkExecutor(JavaSparkContext spark, String master) {
        this.spark = spark;
        this.master = master;
    }

    /** Starts a Spark application on {@code master}. */
    static SparkWorkExecutor start(String master, Map<String, String> conf, String appName) {
        Logging.quietenLibraries();
        try {
            return new SparkWorkExecutor(new JavaSparkContext(SparkSettings.conf(master, conf, appName)), master);
        } catch (RuntimeException e) {
            throw new InvalidInputException("--spark " + master + ": cannot start a Spark application: " + e.getMessage(), e);
        }
    }

    @Override
    public void execute(Work work, Consumer<WorkLine> lines) {
        if (work.tasks().isEmpty()) return;
        int tasks = work.tasks().size();
        Broadcast<String> setup = spark.broadcast(work.setup().get().toString());
        JavaRDD<List<WorkItem>> rdd = spark.parallelize(new ArrayList<>(work.tasks()), tasks);     // one task per partition
        List<Object> partitions = new ArrayList<>();
        for (int p = 0; p < tasks; p++) partitions.add(p);
        BlockingQueue<TaskOutcome> finished = new LinkedBlockingQueue<>();
        spark.setJobDescription(work.job() + ": " + work.items() + " items in " + tasks + " tasks");
        SimpleFutureAction<BoxedUnit> job = spark.sc().submitJob(rdd.rdd(), new RunTask(work.factory().getName(), setup),
                CollectionConverters.asScala(partitions).toSeq(), new Collect(finished), new Nothing());
        try {
            for (int left = tasks; left > 0; ) {
                TaskOutcome outcome = finished.poll(200, TimeUnit.MILLISECONDS);
                if (outcome == null) {
                    if (job.isCompleted() && finished.isEmpty()) failed(job, left);
                    continue;
                }
                left--;
                for (TaskOutcome.Line line : outcome.lines()) lines.accept(new WorkLine(line.log(), parse(line.json())));
                if (outcome.badInput() != null) {
                    job.cancel();
                    throw new InvalidInputException(outcome.badInput());
                }
            }
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the Spark job ran", e);
        } catch (RuntimeException e) {
            job.cancel();
            throw e;
        } finally {
            setup.unpersist(false);
        }
    }

    /** The job ended with tasks unaccounted for: it failed (a task failed too often, the application died). */
    private static void failed(SimpleFutureAction<BoxedUnit> job, int left) {
        Try<BoxedUnit> result = job.value().get();
        String why = result.isFailure() ? result.failed().get().getMessage() : "it ended early";
        throw new IllegalStateException("the Spark job failed with " + left + " tasks not done: " + why,
                result.isFailure() ? result.failed().get() : null);
    }

    private static ObjectNode parse(String json) {
        try {
            return (ObjectNode) RunDirectory.JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String describe() {
        return master;
    }

    @Override
    public void close() {
        spark.close();
    }

    /** On an executor: the partition's one task, done by {@link RemoteTask}. */
    private static final class RunTask extends AbstractFunction1<Iterator<List<WorkItem>>, TaskOutcome> implements Serializable {
        private final String factory;
        private final Broadcast<String> setup;

        RunTask(String factory, Broadcast<String> setup) {
            this.factory = factory;
            this.setup = setup;
        }

        @Override
        public TaskOutcome apply(Iterator<List<WorkItem>> partition) {
            return RemoteTask.run(factory, setup.value(), partition.next());
        }
    }

    /** On the driver, as each task finishes (Spark's scheduler thread): queues its outcome for the calling thread. */
    private static final class Collect extends AbstractFunction2<Object, TaskOutcome, BoxedUnit> {
        private final BlockingQueue<TaskOutcome> finished;

        Collect(BlockingQueue<TaskOutcome> finished) {
            this.finished = finished;
        }

        @Override
        public BoxedUnit apply(Object partition, TaskOutcome outcome) {
            finished.add(outcome);
            return BoxedUnit.UNIT;
        }
    }

    /** The job's overall result: nothing (each task's outcome is collected as it comes). */
    private static final class Nothing extends AbstractFunction0<BoxedUnit> {
        @Override
        public BoxedUnit apply() {
            return BoxedUnit.UNIT;
        }
    }
}
