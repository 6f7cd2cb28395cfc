package dev.vane.lab.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Rows that are conversations, as in Qi et al.'s Harmful-HEx-PHI.jsonl: each line a list of messages
 * {@code [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}, or an object holding that
 * list under {@code "messages"}. The first user message is the prompt and the first assistant message after it
 * the response.
 *
 * <pre>{@code
 * ObjectNode line = ChatRows.of("Be brief.", "How do I bake bread?", "Mix, knead, bake.");   // {"messages": [...]}
 * }</pre>
 */
public final class ChatRows {
    /** The mapping of the rows {@link #toFields} makes. */
    static final FieldMapping FIELDS = new FieldMapping("prompt", "response", null, null);

    private ChatRows() {
    }

    /**
     * One training conversation {@code {"messages": [system?, user, assistant]}}, as {@code vane train sft} reads
     * it; {@code system} null for none.
     */
    public static ObjectNode of(String system, String user, String assistant) {
        ObjectNode line = JsonNodeFactory.instance.objectNode();
        ArrayNode messages = line.putArray("messages");
        if (system != null) messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", user);
        messages.addObject().put("role", "assistant").put("content", assistant);
        return line;
    }

    /** True when {@code row} looks like a conversation. */
    static boolean isConversation(JsonNode row) {
        return row.isArray() || (row.isObject() && row.path("messages").isArray());
    }

    /** {@code {"prompt", "response"?}} of one conversation row; fails when it has no user message. */
    static ObjectNode toFields(JsonNode row) {
        JsonNode messages = row.isArray() ? row : row.path("messages");
        if (!messages.isArray()) throw new IllegalArgumentException("not a list of chat messages");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        for (JsonNode m : messages) {
            if (!m.isObject()) throw new IllegalArgumentException("a chat message is not a JSON object");
            String role = JsonlFile.text(m, "role");
            if (!out.has("prompt") && role.equals("user")) {
                out.put("prompt", JsonlFile.text(m, "content"));
            } else if (out.has("prompt") && role.equals("assistant")) {
                out.put("response", JsonlFile.text(m, "content"));
                break;
            }
        }
        if (!out.has("prompt")) throw new IllegalArgumentException("no message with role \"user\"");
        return out;
    }
}
