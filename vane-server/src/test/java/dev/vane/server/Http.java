package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A small HTTP client for the tests: real requests over loopback with the JDK's client. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A status and a parsed JSON body. */
    record Reply(int status, JsonNode body, HttpResponse<?> raw) {
        String error() {
            return body.path("error").path("message").asText();
        }
    }

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String key;

    Http(int port, String key) {
        this.base = "http://127.0.0.1:" + port;
        this.key = key;
    }

    Reply get(String path) {
        return send(builder(path).GET().build());
    }

    Reply post(String path, String body) {
        return send(builder(path).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** Posts without a Content-Length (chunked transfer encoding). */
    Reply postChunked(String path, byte[] body) {
        return send(builder(path).POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(body))).build());
    }

    Reply post(String path, JsonNode body) {
        return post(path, body.toString());
    }

    /** Posts a streaming request and returns every {@code data:} payload, {@code [DONE]} included. */
    List<String> stream(String path, JsonNode body) {
        try (InputStream in = open(path, body)) {
            return events(in, Integer.MAX_VALUE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Posts a streaming request and returns the open body (closing it hangs up). */
    InputStream open(String path, JsonNode body) {
        HttpRequest request = builder(path).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        try {
            HttpResponse<InputStream> r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                throw new AssertionError("status " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
            }
            if (!r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream")) {
                throw new AssertionError("not an event stream: " + r.headers().map());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads up to {@code max} {@code data:} payloads of an event stream. */
    static List<String> events(InputStream in, int max) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        List<String> out = new ArrayList<>();
        String line;
        while (out.size() < max && (line = reader.readLine()) != null) {
            if (line.isEmpty()) continue;
            if (!line.startsWith("data: ")) throw new AssertionError("not an SSE data line: " + line);
            out.add(line.substring(6));
        }
        return out;
    }

    private HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json");
        if (key != null) b.header("Authorization", "Bearer " + key);
        return b;
    }

    private Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            // The playground's files are not JSON: their text stays in raw().
            boolean json = r.headers().firstValue("content-type").orElse("application/json").startsWith("application/json");
            JsonNode body = r.body().isEmpty() || !json ? JSON.nullNode() : JSON.readTree(r.body());
            return new Reply(r.statusCode(), body, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses one JSON document. */
    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static com.fasterxml.jackson.databind.node.ObjectNode object() {
        return JSON.createObjectNode();
    }

    /** A chat body with one user message, greedy. */
    static com.fasterxml.jackson.databind.node.ObjectNode chat(String user, int maxTokens) {
        var body = object().put("model", Organism.NAME).put("max_tokens", maxTokens).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        return body;
    }
}
