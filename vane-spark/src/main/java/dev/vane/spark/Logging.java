package dev.vane.spark;

/**
 * Spark and Hadoop log through SLF4J, which Vane sends to slf4j-simple: their informational lines (hundreds per
 * job) would bury Vane's own output, so only Spark's warnings and Hadoop's errors are shown, unless the user
 * set a level with {@code -Dorg.slf4j.simpleLogger.log.org.apache.spark=info}.
 */
final class Logging {
    private Logging() {
    }

    static void quietenLibraries() {
        level("org.apache.spark", "warn");
        level("org.sparkproject", "warn");
        level("org.apache.hadoop", "error");          // "Unable to load native-hadoop library": Vane does not use Hadoop
        level("io.netty", "warn");
    }

    private static void level(String logger, String level) {
        String key = "org.slf4j.simpleLogger.log." + logger;
        if (System.getProperty(key) == null) System.setProperty(key, level);
    }
}
