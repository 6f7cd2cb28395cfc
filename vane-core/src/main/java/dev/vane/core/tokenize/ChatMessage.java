package dev.vane.core.tokenize;

import java.util.Objects;

/**
 * One turn of a conversation, as a chat template sees it: {@code {"role": ..., "content": ...}}.
 *
 * <pre>{@code
 * List<ChatMessage> chat = List.of(
 *         ChatMessage.system("You are a careful assistant."),
 *         ChatMessage.user("How do I bake bread?"));
 * }</pre>
 *
 * @param role    "system", "user", "assistant" or any role the template knows
 * @param content the text of the turn
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    /** A {@code system} turn. */
    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    /** A {@code user} turn. */
    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    /** An {@code assistant} turn. */
    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
