package dev.vane.spark;

import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.distribute.WorkExecutorProvider;

import java.util.Map;

/**
 * Opens {@link SparkWorkExecutor}s for {@link WorkExecutor#cluster}; registered in
 * {@code META-INF/services/dev.vane.lab.distribute.WorkExecutorProvider}.
 *
 * <pre>{@code
 * try (WorkExecutor spark = new SparkExecutorProvider().open("local[2]", Map.of(), "vane sweep heads")) {
 *     headSweep.run(metric, run, new Placement(spark, modelSetup), id -> { });
 * }
 * }</pre>
 */
public final class SparkExecutorProvider implements WorkExecutorProvider {
    @Override
    public WorkExecutor open(String master, Map<String, String> conf, String appName) {
        return SparkWorkExecutor.start(master, conf, appName);
    }
}
