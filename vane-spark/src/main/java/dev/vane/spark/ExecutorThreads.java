package dev.vane.spark;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.ComputePool;
import org.apache.spark.SparkEnv;
import scala.Option;

/**
 * The kernel threads of an executor JVM. Vane's kernels split every matrix product over a fixed pool, by default
 * one thread per core of the machine, as in a run without {@code --spark}: the same partitioning, hence the same
 * floating-point results, bit for bit, as a local run on a machine with as many cores. Several executors on one
 * machine then put more threads on its cores than Spark allotted them; {@code --spark-conf spark.vane.threads=N}
 * gives each executor's pool N threads instead (typically its {@code spark.executor.cores}), at the price of
 * results that differ from a local run's in the last bits (the partitioning decides the order of some sums).
 */
final class ExecutorThreads {
    /** The Spark setting that sizes the kernel pool of every executor. */
    static final String SETTING = "spark.vane.threads";
    private static volatile boolean applied;

    private ExecutorThreads() {
    }

    /** Sizes this JVM's pool from {@value #SETTING}, once, before its first task. */
    static void apply() {
        if (applied) return;
        synchronized (ExecutorThreads.class) {
            if (applied) return;
            SparkEnv env = SparkEnv.get();
            Option<String> threads = env == null ? Option.empty() : env.conf().getOption(SETTING);
            if (threads.isDefined()) ComputePool.setThreads(parse(threads.get()));
            applied = true;
        }
    }

    static int parse(String value) {
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidInputException(SETTING + "=" + value + ": give a number of threads, 1 or more");
    }
}
