package dev.vane.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The vane command line as a separate JVM, for what an in-process run cannot show: a kill -9 at any moment, the
 * process's exit code after a signal. Output and errors go to one log file.
 */
final class VaneProcess implements AutoCloseable {
    private static final Path HOME = Path.of(System.getProperty("vane.home"));

    private final Process process;
    private final Path log;

    private VaneProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code vane args...} in the test's working directory, writing its output to {@code log}. */
    static VaneProcess start(Path log, List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                // One CPU: the kernels' workers spin while they wait for each other, which on a machine shared with
                // the tests' own JVM costs the tiny organism more than a second thread gains it.
                "-XX:ActiveProcessorCount=1",
                "-Dvane.home=" + HOME, "-cp", System.getProperty("java.class.path"), Vane.class.getName()));
        command.addAll(args);
        try {
            return new VaneProcess(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9: no shutdown hook, no flush, no last write. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, then the exit code once the process has ended (at most a minute). */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(1, TimeUnit.MINUTES)) throw new AssertionError("still running a minute after SIGTERM: " + log());
        return process.exitValue();
    }

    /** Waits for the process to end on its own; its exit code. */
    int waitFor() throws InterruptedException {
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            kill();
            throw new AssertionError("did not finish within 5 minutes: " + log());
        }
        return process.exitValue();
    }

    /** What it printed so far. */
    String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }
}
