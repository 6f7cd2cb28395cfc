package dev.vane.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without {@code --spark} nothing of Spark is loaded, though its jars are on the class path: a command runs in a
 * JVM that logs every class it loads ({@code -Xlog:class+load}), with this test's class path (vane-spark, Spark,
 * Scala and all). The same command with {@code --spark local[1]} is the control: there Spark's classes are loaded.
 */
class WithoutSparkTest {
    @TempDir
    Path tmp;

    @Test
    void withoutSparkNoSparkOrScalaClassIsLoaded() throws Exception {
        List<String> loaded = loadedClasses(Runs.prefill(tmp.resolve("local"), List.of()));
        assertThat(loaded).as("classes loaded").hasSizeGreaterThan(1000).anyMatch(c -> c.startsWith("dev.vane.lab.attack."));
        assertThat(loaded).noneMatch(c -> c.startsWith("org.apache.spark.") || c.startsWith("scala.")
                || c.startsWith("dev.vane.spark."));
    }

    @Test
    void withSparkItsClassesAreLoaded() throws Exception {
        List<String> loaded = loadedClasses(Runs.prefill(tmp.resolve("spark"), List.of("--spark", "local[1]")));
        assertThat(loaded).contains("org.apache.spark.SparkContext", "dev.vane.spark.SparkWorkExecutor");
    }

    /** Runs vane with {@code args} in a new JVM and returns the names of the classes it loaded. */
    private static List<String> loadedClasses(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xlog:class+load=info:stdout", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Dvane.home=" + Runs.HOME, "-cp", System.getProperty("java.class.path"),
                "dev.vane.cli.Vane"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines().toList();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()))).isZero();
        // "[0.123s][info][class,load] org.apache.spark.SparkContext source: file:..."
        return lines.stream().filter(l -> l.contains("[class,load]"))
                .map(l -> l.substring(l.indexOf("[class,load]") + 13).split(" ")[0]).toList();
    }
}
