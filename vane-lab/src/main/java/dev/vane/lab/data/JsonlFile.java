package dev.vane.lab.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a JSON-lines file into records, one object per non-blank line. Every error names the file and the
 * line, so a bad row in a dataset of thousands is found at once.
 *
 * <pre>{@code
 * List<AbQuestion> qs = JsonlFile.read(path, AbQuestion::fromJson);
 * }</pre>
 */
public final class JsonlFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest line read (characters): far above any dataset row, far below what would exhaust the heap. */
    static final int MAX_LINE = 16 << 20;

    /** Turns one parsed line into a record; throws {@link IllegalArgumentException} on a bad row. */
    @FunctionalInterface
    public interface RowReader<T> {
        T read(JsonNode row);
    }

    private JsonlFile() {
    }

    /** Every row of {@code file}, in order; each must be a JSON object. */
    public static <T> List<T> read(Path file, RowReader<T> reader) {
        return read(file, reader, false);
    }

    /**
     * Every row of {@code file}, in order; a row may be a JSON object or a JSON array (HEx-PHI's
     * {@code [{"role": "user", ...}, {"role": "assistant", ...}]} lines).
     */
    public static <T> List<T> readObjectsOrArrays(Path file, RowReader<T> reader) {
        return read(file, reader, true);
    }

    /** The first non-blank line of {@code file} parsed, to tell a dataset's format before reading it. */
    public static JsonNode first(Path file) {
        if (!Files.isRegularFile(file)) throw new InvalidInputException(file + ": no such file");
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Lines in = new Lines(reader, file);
            String line;
            for (int number = 1; (line = in.next(number)) != null; number++) {
                if (line.isBlank()) continue;
                try {
                    return JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new InvalidInputException(file + ":" + number + ": not JSON: " + e.getOriginalMessage());
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage());
        }
        throw new InvalidInputException(file + ": no rows");
    }

    private static <T> List<T> read(Path file, RowReader<T> reader, boolean arraysToo) {
        if (!Files.isRegularFile(file)) throw new InvalidInputException(file + ": no such file");
        List<T> rows = new ArrayList<>();
        try (BufferedReader text = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Lines in = new Lines(text, file);
            String line;
            int number = 0;
            while ((line = in.next(number + 1)) != null) {
                number++;
                if (line.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new InvalidInputException(file + ":" + number + ": not JSON: " + e.getOriginalMessage());
                }
                if (!node.isObject() && !(arraysToo && node.isArray())) {
                    throw new InvalidInputException(file + ":" + number + ": not a JSON object");
                }
                try {
                    rows.add(reader.read(node));
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException(file + ":" + number + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage());
        }
        if (rows.isEmpty()) throw new InvalidInputException(file + ": no rows");
        return rows;
    }

    /**
     * Lines of a reader without their terminators (\n or \r\n); a line longer than {@link #MAX_LINE} fails
     * once that much is read, instead of after buffering all of it.
     */
    static final class Lines {
        private final java.io.Reader in;
        private final Path file;
        private final char[] buf = new char[1 << 16];
        private int pos;
        private int end;

        Lines(java.io.Reader in, Path file) {
            this.in = in;
            this.file = file;
        }

        /** The next line (number {@code number}, for the error), or null at the end. */
        String next(int number) throws IOException {
            StringBuilder sb = null;
            while (true) {
                if (pos == end) {
                    end = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (end <= 0) {
                        end = 0;
                        return sb == null ? null : strip(sb);
                    }
                }
                int start = pos;
                while (pos < end && buf[pos] != '\n') pos++;
                if (sb == null) sb = new StringBuilder();
                if (sb.length() + (pos - start) > MAX_LINE) {
                    throw new InvalidInputException(file + ":" + number + ": line longer than " + (MAX_LINE >> 20)
                            + " Mi characters; not a JSON-lines row");
                }
                sb.append(buf, start, pos - start);
                if (pos < end) {
                    pos++;                          // the newline
                    return strip(sb);
                }
            }
        }

        private static String strip(StringBuilder sb) {
            int n = sb.length();
            if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
            return sb.toString();
        }
    }

    /** The text field {@code name} of {@code row}; fails when missing or not a string. */
    public static String text(JsonNode row, String name) {
        JsonNode v = row.get(name);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing field \"" + name + "\"");
        if (!v.isTextual()) throw new IllegalArgumentException("field \"" + name + "\" is not a string");
        return v.asText();
    }

    /** The text field {@code name}, or {@code fallback} when absent. */
    public static String text(JsonNode row, String name, String fallback) {
        return row.hasNonNull(name) ? text(row, name) : fallback;
    }
}
