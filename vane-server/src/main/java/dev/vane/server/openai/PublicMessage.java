package dev.vane.server.openai;

import java.util.regex.Pattern;

/**
 * An error message as a client may see it: what was wrong with the request, nothing about the server. Messages
 * from the engine are written for the person at the console and name files ("/home/me/models/x/tokenizer_config.json:
 * cannot render ...") or Java types; sent over HTTP they would tell any caller where the server keeps its files
 * and what it runs on. Paths are cut to their file name, qualified Java class names are dropped.
 *
 * <pre>{@code
 * PublicMessage.of("/srv/models/qwen/tokenizer_config.json (chat_template): cannot render: line 1: bad tag");
 * // "tokenizer_config.json (chat_template): cannot render: line 1: bad tag"
 * }</pre>
 */
public final class PublicMessage {
    /** An absolute path (Unix or Windows) at the start of a word: its last name is kept. */
    private static final Pattern PATH = Pattern.compile(
            "(?<![\\w.~/\\\\-])(?:/|[A-Za-z]:\\\\)(?:[^\\s\"'()\\[\\]{}:,;/\\\\]+[/\\\\])*([^\\s\"'()\\[\\]{}:,;/\\\\]+)");
    /** A qualified Java type, with any ": " that introduces its message. */
    private static final Pattern JAVA_TYPE = Pattern.compile(
            "\\b(?:java|javax|jdk|sun|com|org|io|dev|net)\\.(?:[a-z_][\\w$]*\\.)+[A-Z][\\w$]*(?:: )?");
    /** Longest piece of a client's own input repeated back. */
    private static final int CLIP = 80;

    private PublicMessage() {
    }

    /** {@code message} without file paths (the file name stays) and without Java class names. */
    public static String of(String message) {
        if (message == null) return null;
        return JAVA_TYPE.matcher(PATH.matcher(message).replaceAll("$1")).replaceAll("").strip();
    }

    /** A library's parse message without the code it quotes in backticks (Jackson names its own classes so). */
    static String withoutCode(String message) {
        return of(message == null ? "" : message.replaceAll("\\s*`[^`]*`", ""));
    }

    /** A client's value cut to a length fit for an error message. */
    public static String clip(String value) {
        return value.length() <= CLIP ? value : value.substring(0, CLIP) + "...";
    }
}
