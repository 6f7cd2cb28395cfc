package dev.vane.lab.data;

import dev.vane.core.InvalidInputException;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Which field (JSON-lines key or CSV column) of a dataset's rows holds the prompt, the response, the category
 * and the split: what {@code --field prompt=goal,response=target} says, or what {@link #detect} finds in
 * well-known layouts. Only the prompt is required; the others are null when the dataset has none.
 *
 * <pre>{@code
 * FieldMapping m = FieldMapping.parse("prompt=goal,response=target");
 * List<PromptResponse> rows = CsvFile.read(file, m.promptResponses());
 * }</pre>
 */
public record FieldMapping(String prompt, String response, String category, String split) {
    /** The names tried, in order, for each role when no mapping is given (compared ignoring case). */
    static final List<String> PROMPT_NAMES = List.of("prompt", "goal", "instruction", "query");
    static final List<String> RESPONSE_NAMES = List.of("response", "target");
    static final List<String> CATEGORY_NAMES = List.of("category");
    static final List<String> SPLIT_NAMES = List.of("split");

    public FieldMapping {
        if (prompt == null || prompt.isBlank()) throw new InvalidInputException("a field mapping needs prompt=NAME");
    }

    /** Parses {@code prompt=NAME[,response=NAME][,category=NAME][,split=NAME]}. */
    public static FieldMapping parse(String spec) {
        String prompt = null, response = null, category = null, split = null;
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                throw new InvalidInputException("--field " + spec + ": \"" + part + "\" is not ROLE=NAME");
            }
            String role = part.substring(0, eq).strip(), name = part.substring(eq + 1).strip();
            switch (role) {
                case "prompt" -> prompt = name;
                case "response" -> response = name;
                case "category" -> category = name;
                case "split" -> split = name;
                default -> throw new InvalidInputException("--field " + spec + ": unknown role \"" + role
                        + "\" (prompt, response, category, split)");
            }
        }
        if (prompt == null) throw new InvalidInputException("--field " + spec + ": prompt=NAME is required");
        return new FieldMapping(prompt, response, category, split);
    }

    /**
     * The mapping for rows with these field names: the first of {@link #PROMPT_NAMES} present is the prompt,
     * and so on. {@code file} is named in the error when no prompt field is found.
     */
    public static FieldMapping detect(Collection<String> names, Path file) {
        String prompt = find(names, PROMPT_NAMES);
        if (prompt == null) {
            throw new InvalidInputException(file + ": cannot tell which field is the prompt (fields: "
                    + String.join(", ", names) + "); pass --field prompt=NAME[,response=NAME]");
        }
        return new FieldMapping(prompt, find(names, RESPONSE_NAMES), find(names, CATEGORY_NAMES), find(names, SPLIT_NAMES));
    }

    /**
     * This mapping with each name matched to the spelling in {@code names} (exact first, then ignoring case),
     * failing with the list of fields when one is missing.
     */
    public FieldMapping resolvedAgainst(Collection<String> names, Path file) {
        return new FieldMapping(resolve(prompt, names, file), resolve(response, names, file),
                resolve(category, names, file), resolve(split, names, file));
    }

    /** This mapping, which must name a response field. */
    public FieldMapping requireResponse(Path file) {
        if (response == null) {
            throw new InvalidInputException(file + ": no response field (tried " + String.join(", ", RESPONSE_NAMES)
                    + "); pass --field prompt=" + prompt + ",response=NAME");
        }
        return this;
    }

    /** Reads rows as {@link PromptResponse}s (the mapping must name a response field). */
    public JsonlFile.RowReader<PromptResponse> promptResponses() {
        if (response == null) throw new IllegalStateException("no response field in " + this);
        return row -> new PromptResponse(JsonlFile.text(row, prompt), JsonlFile.text(row, response));
    }

    /** Reads rows as {@link Request}s (category and split empty when not mapped or absent). */
    public JsonlFile.RowReader<Request> requests() {
        // JSON rows keep their task and steps (the organism's files), so answers can be checked against them
        return row -> new Request(JsonlFile.text(row, prompt), optional(row, category), optional(row, split),
                JsonlFile.text(row, "task", ""), row.path("steps").isArray() ? Request.steps(row) : List.of());
    }

    private static String optional(com.fasterxml.jackson.databind.JsonNode row, String field) {
        return field == null ? "" : JsonlFile.text(row, field, "");
    }

    private static String find(Collection<String> names, List<String> candidates) {
        for (String c : candidates) {
            for (String n : names) if (n.toLowerCase(Locale.ROOT).equals(c)) return n;
        }
        return null;
    }

    private static String resolve(String wanted, Collection<String> names, Path file) {
        if (wanted == null || names.contains(wanted)) return wanted;
        for (String n : names) if (n.equalsIgnoreCase(wanted)) return n;
        throw new InvalidInputException(file + ": no field \"" + wanted + "\" (fields: " + String.join(", ", names) + ")");
    }
}
