package dev.vane.spark;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on loopback for tests: a master and workers of one core each, each its own JVM started
 * from Spark's jars (those of this test's class path, linked into a Spark home's {@code jars} folder, which the
 * workers use to launch executors). Closing it ends every process it started, executors included.
 */
final class LoopbackCluster implements AutoCloseable {
    private final Path dir;
    private final Process master;
    private final String url;
    private final List<Process> workers = new ArrayList<>();

    private LoopbackCluster(Path dir, Process master, String url) {
        this.dir = dir;
        this.master = master;
        this.url = url;
    }

    /** Starts a master and {@code workers} workers in {@code dir}, and waits until every worker has registered. */
    static LoopbackCluster start(Path dir, int workers) throws IOException, InterruptedException {
        Path jars = Files.createDirectories(dir.resolve("spark-home/jars"));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path jar = Path.of(entry).toAbsolutePath();
            if (jar.toString().endsWith(".jar") && !Files.exists(jars.resolve(jar.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar);
            }
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "spark://127.0.0.1:" + port;
        Process master = daemon(dir, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--webui-port", "0");
        LoopbackCluster cluster = new LoopbackCluster(dir, master, url);
        try {
            awaitLog(dir.resolve("master.log"), "I have been elected leader", 90);
            for (int i = 0; i < workers; i++) {
                cluster.workers.add(daemon(dir, "worker-" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--cores", "1", "--memory", "1g", "--webui-port", "0", "--work-dir", cluster.workDir(i).toString(), url));
            }
            for (int i = 0; i < workers; i++) awaitLog(dir.resolve("worker-" + i + ".log"), "Successfully registered with master", 90);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private static Process daemon(Path dir, String name, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx256m",
                "-Dspark.master.rest.enabled=false", "-cp", dir.resolve("spark-home/jars").toAbsolutePath() + "/*", main));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", dir.resolve("spark-home").toAbsolutePath().toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    /** Waits until {@code file} holds {@code text}. */
    static void awaitLog(Path file, String text, int seconds) throws IOException, InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            if (Files.exists(file) && Files.readString(file).contains(text)) return;
            Thread.sleep(100);
        }
        throw new IllegalStateException("no \"" + text + "\" in " + file + " after " + seconds + " s:\n"
                + (Files.exists(file) ? Files.readString(file) : "(no file)"));
    }

    /** The master's URL, {@code spark://127.0.0.1:PORT}. */
    String master() {
        return url;
    }

    /** Worker {@code i}'s folder: one folder per application, one per executor, its stderr there. */
    Path workDir(int i) {
        return dir.resolve("work-" + i).toAbsolutePath();
    }

    /** The stderr logs of every executor worker {@code i} has started. */
    List<Path> executorLogs(int i) {
        if (!Files.isDirectory(workDir(i))) return List.of();
        try (Stream<Path> files = Files.walk(workDir(i))) {
            return files.filter(p -> p.getFileName().toString().equals("stderr")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills worker {@code i} and its executors at once, as a machine that goes down. */
    void kill(int i) {
        Process w = workers.get(i);
        w.descendants().forEach(ProcessHandle::destroyForcibly);
        w.destroyForcibly();
    }

    @Override
    public void close() {
        for (Process w : workers) {
            w.descendants().forEach(ProcessHandle::destroyForcibly);
            w.destroyForcibly();
        }
        master.descendants().forEach(ProcessHandle::destroyForcibly);
        master.destroyForcibly();
        for (Process p : workers) p.onExit().join();
        master.onExit().join();
    }
}
