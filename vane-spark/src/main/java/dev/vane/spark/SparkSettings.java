package dev.vane.spark;

import org.apache.spark.SparkConf;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Spark configuration of a Vane job: the user's {@code --spark-conf} settings, and what Vane sets itself so
 * that executors can run its work: the JVM options every Vane process needs (the Vector API's incubator module,
 * native access for the memory-mapped weights and OpenBLAS; the user's own options are added after them), and,
 * unless the user gives {@code spark.executor.extraClassPath}, the driver's class path, so that executors load the
 * same Vane and the same libraries from the same paths (a shared install, like the model directory).
 *
 * <pre>{@code
 * SparkConf conf = SparkSettings.conf("spark://head:7077", Map.of("spark.executor.memory", "8g"), "vane sweep heads");
 * }</pre>
 */
final class SparkSettings {
    /** The JVM options of every Vane process, as the launcher and the build pass them. */
    static final String VANE_JVM_OPTIONS =
            "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow";
    static final String EXECUTOR_OPTIONS = "spark.executor.extraJavaOptions";
    static final String EXECUTOR_CLASS_PATH = "spark.executor.extraClassPath";

    private SparkSettings() {
    }

    static SparkConf conf(String master, Map<String, String> user, String appName) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName)
                // Vane prints its own progress; Spark's console bar would write over it.
                .set("spark.ui.showConsoleProgress", "false");
        user.forEach(conf::set);
        if (user.containsKey(ExecutorThreads.SETTING)) ExecutorThreads.parse(user.get(ExecutorThreads.SETTING));
        String own = user.get(EXECUTOR_OPTIONS);
        conf.set(EXECUTOR_OPTIONS, own == null || own.isBlank() ? VANE_JVM_OPTIONS : VANE_JVM_OPTIONS + " " + own);
        if (!user.containsKey(EXECUTOR_CLASS_PATH)) conf.set(EXECUTOR_CLASS_PATH, driverClassPath());
        return conf;
    }

    /** This JVM's class path with every entry absolute: executors start in their own working folders. */
    static String driverClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isBlank()) entries.add(Path.of(e).toAbsolutePath().normalize().toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
