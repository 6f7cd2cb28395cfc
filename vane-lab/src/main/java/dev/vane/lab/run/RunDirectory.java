package dev.vane.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A job's directory, {@code runs/<job>-<timestamp>/}: {@code config.json} (everything needed to rerun),
 * {@code results.jsonl} (one line per item, appended as items finish), {@code summary.json} and charts.
 *
 * <p>Opening an existing directory resumes it: the stored config must equal the new one (otherwise the
 * results would mix two experiments), and {@link #results()} knows which items are already done.
 *
 * <pre>{@code
 * RunDirectory run = RunDirectory.openOrCreate(Path.of("runs"), "attack-prefill", null, config);
 * ResultsLog log = run.results();
 * for (Item item : items) {
 *     if (log.isDone(item.id())) continue;
 *     log.append(resultOf(item));          // {"id": ..., ...}, flushed to disk at once
 * }
 * run.writeSummary(summary);
 * }</pre>
 */
public final class RunDirectory {
    /** Shared JSON settings for run files: pretty config and summary, compact result lines. */
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Path dir;
    private final boolean resumed;
    private final String fingerprint;
    private ResultsLog results;

    private RunDirectory(Path dir, boolean resumed, JsonNode config) {
        this.dir = dir;
        this.resumed = resumed;
        this.fingerprint = fingerprintOf(config);
    }

    /**
     * Resumes {@code dir} when given and it holds a config, creates it when given and new, or else creates
     * {@code root/<job>-<timestamp>}. A resumed directory's config must equal {@code config}.
     */
    public static RunDirectory openOrCreate(Path root, String job, Path dir, JsonNode config) {
        if (dir == null) {
            String stamp = LocalDateTime.now().format(STAMP);
            dir = root.resolve(job + "-" + stamp);
            for (int i = 2; Files.exists(dir); i++) dir = root.resolve(job + "-" + stamp + "-" + i);
        }
        Path configFile = dir.resolve("config.json");
        try {
            // Compare as stored: 0.9f and 0.9, or 7L and 7, are different JSON nodes but the same file.
            config = JSON.readTree(JSON.writeValueAsString(config));
            if (Files.isRegularFile(configFile)) {
                JsonNode stored;
                try {
                    stored = JSON.readTree(configFile.toFile());
                } catch (IOException e) {
                    throw new InvalidInputException(configFile + ": unreadable config: " + e.getMessage());
                }
                if (!stored.equals(config)) {
                    throw new InvalidInputException(dir + " holds a run with a different config (" + differences(stored, config)
                            + "); use a new --out directory, or the same options to resume (stored: " + configFile + ")");
                }
                return new RunDirectory(dir, true, config);
            }
            if (Files.exists(dir) && !Files.isDirectory(dir)) throw new InvalidInputException(dir + " is not a directory");
            Files.createDirectories(dir);
            RunDirectory run = new RunDirectory(dir, false, config);
            run.writeJson("config.json", config);
            return run;
        } catch (IOException e) {
            throw new InvalidInputException("cannot create run directory " + dir + ": " + e.getMessage());
        }
    }

    /**
     * The {@code "seed"} recorded in {@code dir/config.json}, or null when there is no such run or it records
     * none: a job without --seed reuses the seed it drew the first time when it resumes.
     */
    public static Long storedSeed(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) return null;
        try {
            JsonNode seed = JSON.readTree(configFile.toFile()).get("seed");
            return seed != null && seed.isIntegralNumber() && seed.canConvertToLong() ? seed.asLong() : null;
        } catch (IOException e) {
            return null;            // openOrCreate reports the unreadable config
        }
    }

    /** The top-level keys whose values differ, e.g. {@code "seed: 1 -> 2, tokens"}. */
    static String differences(JsonNode stored, JsonNode config) {
        Set<String> keys = new TreeSet<>();
        stored.fieldNames().forEachRemaining(keys::add);
        config.fieldNames().forEachRemaining(keys::add);
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            JsonNode a = stored.get(k), b = config.get(k);
            if (Objects.equals(a, b)) continue;
            boolean small = (a == null || a.isValueNode()) && (b == null || b.isValueNode());
            out.add(small ? k + ": " + a + " -> " + b : k);
        }
        return out.isEmpty() ? "not a JSON object" : String.join(", ", out);
    }

    /** The directory. */
    public Path path() {
        return dir;
    }

    /** A file inside the directory. */
    public Path path(String name) {
        return dir.resolve(name);
    }

    /** True when this directory held a run before (the job resumes). */
    public boolean resumed() {
        return resumed;
    }

    /** The stored config. */
    public JsonNode config() {
        try {
            return JSON.readTree(dir.resolve("config.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code results.jsonl}, opened for appending (repairs a line cut short by a kill). */
    public synchronized ResultsLog results() {
        if (results == null) results = ResultsLog.open(dir.resolve("results.jsonl"), fingerprint());
        return results;
    }

    /**
     * A short hash of the stored config: written into every results line, so that a line is reused only by a
     * run of the very same config (not by one whose config.json was deleted and remade with other options).
     */
    public String fingerprint() {
        return fingerprint;
    }

    private static String fingerprintOf(JsonNode config) {
        try {
            byte[] canonical = new ObjectMapper().writeValueAsBytes(config);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical)).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A results log under another name, e.g. {@code judge-harm.jsonl}. */
    public ResultsLog results(String fileName) {
        return ResultsLog.open(dir.resolve(fileName), fingerprint());
    }

    /** Writes {@code summary.json} (atomically). */
    public void writeSummary(JsonNode summary) {
        writeJson("summary.json", summary);
    }

    /** Writes {@code name} as pretty JSON, atomically: a kill leaves the old file or the new one, never half. */
    public void writeJson(String name, JsonNode value) {
        try {
            writeAtomically(dir.resolve(name), JSON.writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} to {@code file} through a temporary file and a rename. */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * sha-256 (hex) of a file's bytes: input files (datasets, steering vectors) are recorded in a run's config
     * by content, so that a run never resumes on a dataset that changed under it.
     */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) digest.update(buf, 0, n);
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new empty JSON object, for configs and summaries. */
    public static ObjectNode object() {
        return JSON.createObjectNode();
    }
}
