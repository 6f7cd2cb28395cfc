package dev.vane.lab.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An append-only JSON-lines results file where each line has an {@code "id"}. Each append is written and
 * forced to disk before it returns, so a job killed at any moment loses at most the item in progress; a line
 * cut short by the kill is dropped when the log is reopened.
 *
 * <p>A log opened for a run carries the run's fingerprint (a hash of its config): every line is written with
 * it as {@code "run"}, and lines without it or with another are not counted as done, so results of another
 * configuration (a config.json deleted or edited by hand) are never reused as this one's.
 *
 * <pre>{@code
 * ResultsLog log = run.results();
 * if (!log.isDone("q17")) log.append(line);   // line.get("id") == "q17"
 * }</pre>
 */
public final class ResultsLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final String fingerprint;
    private final Map<String, JsonNode> done = new LinkedHashMap<>();
    private int foreign;

    private ResultsLog(Path file, String fingerprint) {
        this.file = file;
        this.fingerprint = fingerprint;
    }

    /** Opens (or starts) {@code file}, reading the items already done. */
    public static ResultsLog open(Path file) {
        return open(file, null);
    }

    /**
     * Opens (or starts) {@code file} for the run whose fingerprint is {@code fingerprint} (null: any line counts):
     * only lines carrying it count as done.
     */
    public static ResultsLog open(Path file, String fingerprint) {
        ResultsLog log = new ResultsLog(file, fingerprint);
        if (Files.exists(file)) log.load();
        return log;
    }

    /** Lines in the file that belong to another configuration (or carry none) and were not reused. */
    public synchronized int foreign() {
        return foreign;
    }

    private void load() {
        try {
            byte[] bytes = Files.readAllBytes(file);
            int end = bytes.length;
            // A kill mid-write leaves a last line without its newline: cut it off, the item reruns.
            while (end > 0 && bytes[end - 1] != '\n') end--;
            if (end != bytes.length) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(end);
                }
            }
            String[] lines = new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(lines[i]);
                } catch (IOException e) {
                    throw new InvalidInputException(file + ":" + (i + 1) + ": not JSON; the results file is damaged");
                }
                if (node == null || !node.isObject()) {
                    throw new InvalidInputException(file + ":" + (i + 1) + ": not a JSON object; the results file is damaged");
                }
                if (fingerprint != null && !fingerprint.equals(node.path("run").asText(null))) {
                    foreign++;
                    continue;
                }
                JsonNode id = node.get("id");
                if (id == null) throw new InvalidInputException(file + ":" + (i + 1) + ": result without \"id\"");
                done.put(id.asText(), node);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when an item with this id is already recorded. */
    public synchronized boolean isDone(String id) {
        return done.containsKey(id);
    }

    /** The recorded line of {@code id}, or null. */
    public synchronized JsonNode get(String id) {
        return done.get(id);
    }

    /** Every recorded line, in the order written. */
    public synchronized List<JsonNode> all() {
        return new ArrayList<>(done.values());
    }

    /** Number of recorded items. */
    public synchronized int size() {
        return done.size();
    }

    /** The file. */
    public Path path() {
        return file;
    }

    /** Appends one result (which must have an "id" not yet recorded) and forces it to disk. */
    public synchronized void append(JsonNode line) {
        if (fingerprint != null && line instanceof ObjectNode o) {
            ObjectNode stamped = o.deepCopy();
            stamped.put("run", fingerprint);
            line = stamped;
        }
        JsonNode id = line.get("id");
        if (id == null) throw new IllegalArgumentException("result line without \"id\"");
        if (done.containsKey(id.asText())) throw new IllegalStateException("item " + id.asText() + " recorded twice");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap((JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        done.put(id.asText(), line);
    }
}
