package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.WorkExecutor;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --spark MASTER} and {@code --spark-conf KEY=VALUE}: run a job's work items as the tasks of an Apache Spark
 * application (vane-spark, found on the class path only when asked for: without {@code --spark} no Spark class is
 * loaded). The run directory, its config and its results are the same as a local run's, so either resumes the other.
 *
 * <pre>{@code
 * @Mixin SparkOptions spark;
 * try (WorkExecutor executor = spark.open("sweep heads")) { ... new Placement(executor, model) ... }
 * }</pre>
 */
final class SparkOptions {
    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Run the work items as Apache Spark tasks. MASTER: local[N] (N task threads in this JVM), "
                    + "spark://HOST:PORT (a standalone cluster) or any master URL Spark takes. Each executor loads the "
                    + "model once: the model directory (and any --adapter) must be readable at the same path on every "
                    + "machine; data, vectors and the run directory stay with this process, which writes the same "
                    + "results as without --spark (docs/spark.md).")
    String master;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting (repeatable), e.g. spark.executor.memory=8g or spark.executor.cores=4. Vane "
                    + "sets the executors' JVM options itself (added before spark.executor.extraJavaOptions).")
    List<String> conf = new ArrayList<>();

    /** The executor of {@code job}: this JVM without --spark, else a Spark application named after the job. */
    WorkExecutor open(String job) {
        if (master == null) {
            if (!conf.isEmpty()) throw new InvalidInputException("--spark-conf needs --spark MASTER");
            return WorkExecutor.local();
        }
        if (master.isBlank()) throw new InvalidInputException("--spark needs a master URL, e.g. local[2] or spark://HOST:7077");
        return WorkExecutor.cluster(master, settings(), "vane " + job);
    }

    /** Where {@code job}'s items run: {@link #open} with the model the executors load. */
    Placement placement(WorkExecutor executor, Path modelDir, List<Path> adapters) {
        return new Placement(executor, new ModelSetup(modelDir, adapters));
    }

    /** True when --spark was given. */
    boolean given() {
        return master != null;
    }

    private Map<String, String> settings() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new InvalidInputException("--spark-conf " + kv + ": write KEY=VALUE, e.g. spark.executor.memory=8g");
            out.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        return out;
    }
}
