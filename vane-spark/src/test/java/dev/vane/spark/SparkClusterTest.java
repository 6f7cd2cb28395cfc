package dev.vane.spark;

import dev.vane.cli.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vane's jobs on a real Spark standalone cluster: a master and two workers of one core each, separate JVMs started
 * from Spark's jars on loopback ({@link LoopbackCluster}). A head sweep and a prefilling attack write the local
 * run's results, row for row; a worker killed while its executor runs a task costs no row and duplicates none.
 * About 2 minutes: the cluster's start, five applications (each starting its executors) and the local runs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkClusterTest {
    @TempDir
    static Path tmp;
    private static LoopbackCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = LoopbackCluster.start(tmp.resolve("cluster"), 2);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    /** The options that send a command's work items to the cluster. */
    private static List<String> onCluster() {
        return List.of("--spark", cluster.master(), "--spark-conf", "spark.driver.host=127.0.0.1",
                "--spark-conf", "spark.executor.memory=768m");
    }

    /** The run {@code args} writes into {@code out} without --spark (once: the tests share it). */
    private static Path local(Path out, List<String> args) {
        if (!Files.isRegularFile(out.resolve("summary.json"))) {
            CliRun r = CliRun.of(args);
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
        return out;
    }

    @Test
    @Order(1)
    void aHeadSweepAndAPrefillAttackOnTheClusterWriteTheLocalRunsRowsAndSummaries() throws Exception {
        Path localSweep = local(tmp.resolve("sweep-local"), Runs.sweep(tmp.resolve("sweep-local"), List.of()));
        Path sweep = tmp.resolve("sweep-cluster");
        CliRun r = CliRun.of(Runs.sweep(sweep, onCluster()));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        // Same ids, same values, same config fingerprint: the cluster's run directory is the local run's.
        assertThat(Runs.rows(sweep)).hasSize(49).isEqualTo(Runs.rows(localSweep));
        assertThat(Runs.summary(sweep)).isEqualTo(Runs.summary(localSweep));

        Path localPrefill = local(tmp.resolve("prefill-local"), Runs.prefill(tmp.resolve("prefill-local"), List.of()));
        Path prefill = tmp.resolve("prefill-cluster");
        CliRun s = CliRun.of(Runs.prefill(prefill, onCluster()));
        assertThat(s.exitCode()).as(s.toString()).isZero();
        assertThat(Runs.rows(prefill)).hasSize(17).isEqualTo(Runs.rows(localPrefill));      // the calibration, 16 trials
        assertThat(Runs.summary(prefill)).isEqualTo(Runs.summary(localPrefill));

        // Both workers' executors ran tasks: the work was spread, not run by one of them.
        for (int worker = 0; worker < 2; worker++) {
            String logs = String.join("\n", cluster.executorLogs(worker).stream().map(SparkClusterTest::read).toList());
            assertThat(logs).as("executor logs of worker " + worker).contains("Running task");
        }
    }

    @Test
    @Order(2)
    void aWorkerKilledWhileItsExecutorRunsATaskCostsNoRowAndDuplicatesNone() throws Exception {
        Path localPrefill = local(tmp.resolve("prefill-local"), Runs.prefill(tmp.resolve("prefill-local"), List.of()));
        Map<String, JsonNode> expected = Runs.rows(localPrefill);
        Set<Path> before0 = new HashSet<>(cluster.executorLogs(0)), before1 = new HashSet<>(cluster.executorLogs(1));
        Path out = tmp.resolve("prefill-killed");
        CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() -> CliRun.of(Runs.prefill(out, onCluster())));
        // Killed as soon as its executor starts its first task (which first loads the model): that task is lost.
        String lost = awaitFirstTask(before1, run);
        cluster.kill(1);
        CliRun r = run.get(240, TimeUnit.SECONDS);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        // Spark ran the lost task again on the other worker (attempt 1 of the same task) ...
        String survivor = String.join("\n", cluster.executorLogs(0).stream().filter(p -> !before0.contains(p))
                .map(SparkClusterTest::read).toList());
        assertThat(survivor).contains("Running task " + lost.replaceFirst("\\.0 in", ".1 in"));
        // ... and every item is written once, as the local run wrote it.
        assertThat(Files.readAllLines(out.resolve("results.jsonl"))).hasSize(expected.size());
        assertThat(Runs.rows(out)).isEqualTo(expected);
        assertThat(Runs.summary(out)).isEqualTo(Runs.summary(localPrefill));
    }

    /**
     * Waits until a new executor of worker 1 (one not in {@code before}) starts a task, and returns the task as its
     * log names it: {@code "2.0 in stage 0.0"} (partition 2, attempt 0).
     */
    private static String awaitFirstTask(Set<Path> before, CompletableFuture<CliRun> run) throws InterruptedException {
        Pattern running = Pattern.compile("Running task (\\d+\\.0 in stage \\S+)");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < end) {
            assertThat(run).as("the run ended before worker 1 ran a task").isNotDone();
            for (Path log : cluster.executorLogs(1)) {
                if (before.contains(log)) continue;
                Matcher m = running.matcher(read(log));
                if (m.find()) return m.group(1);
            }
            Thread.sleep(10);
        }
        throw new AssertionError("worker 1's executor never ran a task");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
