package dev.vane.server.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, with the HTTP status and OpenAI's error object:
 * {@code {"error": {"message", "type", "param", "code"}}}. Clients built for OpenAI read the message from
 * there, so every refusal (bad JSON, a bad value, an unknown vector, a missing key) uses this shape.
 *
 * <pre>{@code
 * throw ApiException.badRequest("temperature", "temperature must be between 0 and 2, got 7");
 * }</pre>
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a malformed request or a value out of range; {@code param} names the field (may be null). */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    /** 400 with a machine-readable code, e.g. {@code context_length_exceeded}. */
    public static ApiException badRequest(String param, String code, String message) {
        return new ApiException(400, "invalid_request_error", param, code, message);
    }

    /** 400 from an engine check: its message without the server's file paths or class names. */
    public static ApiException badRequest(String param, dev.vane.core.InvalidInputException e) {
        return badRequest(param, PublicMessage.of(e.getMessage()));
    }

    /** 401: no bearer key, or the wrong one. */
    public static ApiException unauthorized() {
        return new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                "Missing or incorrect API key. Send it as the header \"Authorization: Bearer KEY\".");
    }

    /** 403: a request the server will not answer, whatever it holds (a Host or Origin not allowed). */
    public static ApiException forbidden(String code, String message) {
        return new ApiException(403, "invalid_request_error", null, code, message);
    }

    /** 404: an unknown model or path. */
    public static ApiException notFound(String code, String message) {
        return new ApiException(404, "invalid_request_error", null, code, message);
    }

    /** 413: the body exceeds the server's limit. */
    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "The request body is larger than this server accepts (" + limit + " bytes).");
    }

    /** 415: the body is not declared as JSON. */
    public static ApiException unsupportedMediaType(String message) {
        return new ApiException(415, "invalid_request_error", null, "unsupported_media_type", message);
    }

    /** 429: the queue is full. */
    public static ApiException busy(String message) {
        return new ApiException(429, "server_busy", null, "server_busy", message);
    }

    /** 503: the server is shutting down. */
    public static ApiException unavailable() {
        return new ApiException(503, "server_unavailable", null, "shutting_down", "The server is shutting down.");
    }

    /** 500: a bug; the message says so and no more (the server's log has the details). */
    public static ApiException internal() {
        return new ApiException(500, "server_error", null, null,
                "The server had an error while processing your request; its log has the details.");
    }

    /** 505: HTTP/1.0, which the server does not speak; says how to make a proxy in front use HTTP/1.1. */
    public static ApiException http10() {
        return new ApiException(505, "invalid_request_error", null, "http_version_not_supported",
                "HTTP/1.0 is not supported; send HTTP/1.1. Behind nginx, set \"proxy_http_version 1.1;\" in the"
                        + " location that proxies to this server.");
    }

    public int status() {
        return status;
    }

    /** The body: {@code {"error": {...}}}. */
    public ObjectNode body(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
