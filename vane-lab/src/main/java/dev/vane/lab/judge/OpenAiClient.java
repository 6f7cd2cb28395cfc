package dev.vane.lab.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal client of OpenAI's chat completions API ({@code POST {endpoint}/chat/completions}) on the JDK's
 * HTTP client: enough to ask a judge model, from OpenAI itself, any compatible host, or {@code vane serve}.
 * Failures that may pass (timeouts, connection errors, 408, 409, 429 and 5xx) are retried with exponential
 * backoff and jitter, honouring {@code Retry-After}; the others (a wrong key, an unknown model, a bad request)
 * fail at once with the server's message.
 *
 * <pre>{@code
 * OpenAiClient client = new OpenAiClient(URI.create("https://api.openai.com/v1"), System.getenv("OPENAI_API_KEY"),
 *         Duration.ofSeconds(60), 4, Duration.ofSeconds(1));
 * String answer = client.chat("gpt-4o", "Say hi.", 0.0, 64, null);
 * }</pre>
 */
public final class OpenAiClient {
    /** The endpoint could not answer after all retries. */
    public static final class UnavailableException extends RuntimeException {
        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest wait between attempts, whatever Retry-After says. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final URI completions;
    private final String apiKey;
    private final Duration timeout;
    private final int retries;
    private final Duration backoff;
    private final HttpClient http;

    /**
     * @param endpoint base URL ending in the API version, e.g. {@code http://127.0.0.1:8080/v1}
     * @param apiKey   bearer key, or null to send none
     * @param timeout  limit per attempt
     * @param retries  further attempts after a failure that may pass
     * @param backoff  first wait between attempts (doubled each time)
     */
    public OpenAiClient(URI endpoint, String apiKey, Duration timeout, int retries, Duration backoff) {
        String scheme = endpoint.getScheme();
        if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
            throw new InvalidInputException("endpoint " + endpoint + " is not an http(s) URL");
        }
        if (retries < 0) throw new InvalidInputException("retries must be >= 0, got " + retries);
        String base = endpoint.toString().replaceAll("/+$", "");
        this.completions = URI.create(base + "/chat/completions");
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.retries = retries;
        this.backoff = backoff;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /**
     * Sends one user message and returns the reply's text (the refusal text when the model refused through
     * the API's {@code refusal} field, or "" when there is none).
     *
     * @param seed null for none
     * @throws InvalidInputException when the endpoint refuses the request for good (4xx other than 408/409/429)
     * @throws UnavailableException  when every attempt failed
     */
    public String chat(String model, String message, double temperature, int maxTokens, Long seed) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user").put("content", message);
        body.put("temperature", temperature);
        body.put("max_tokens", maxTokens);
        if (seed != null) body.put("seed", seed);
        HttpRequest.Builder request = HttpRequest.newBuilder(completions).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null) request.header("Authorization", "Bearer " + apiKey);
        return content(send(request.build()));
    }

    private JsonNode send(HttpRequest request) {
        Exception last = null;
        Duration wait = backoff;
        for (int attempt = 0; attempt <= retries; attempt++) {
            if (attempt > 0) sleep(jittered(wait));
            Duration retryAfter = null;
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                int status = r.statusCode();
                if (status == 200) return parse(r.body());
                if (!retryable(status)) {
                    throw new InvalidInputException("judge endpoint " + completions + " refused the request: HTTP "
                            + status + ": " + errorMessage(r.body()));
                }
                last = new IOException("HTTP " + status + ": " + errorMessage(r.body()));
                retryAfter = r.headers().firstValue("retry-after").map(OpenAiClient::seconds).orElse(null);
            } catch (IOException e) {
                last = e;           // connection refused or reset, timeout (HttpTimeoutException), malformed reply
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnavailableException("interrupted", e);
            }
            if (retryAfter != null) wait = retryAfter.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : retryAfter;
            else if (attempt > 0) wait = wait.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait.multipliedBy(2);
        }
        throw new UnavailableException("judge endpoint " + completions + " failed " + (retries + 1)
                + (retries == 0 ? " time" : " times") + "; last: " + describe(last), last);
    }

    /**
     * What went wrong, in words. The JDK's HttpClient throws a ConnectException without a message (the cause has
     * it), so a plain getMessage() printed "null".
     */
    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        if (e instanceof java.net.ConnectException || t instanceof java.net.ConnectException) {
            return "cannot connect (" + (t.getMessage() != null ? t.getMessage() : "connection refused") + ")";
        }
        if (e instanceof java.net.http.HttpTimeoutException) return "no answer within the timeout (" + e.getMessage() + ")";
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private static boolean retryable(int status) {
        return status == 408 || status == 409 || status == 429 || status >= 500;
    }

    private static JsonNode parse(String body) throws IOException {
        JsonNode node = JSON.readTree(body);
        if (node == null || !node.path("choices").isArray() || node.path("choices").isEmpty()) {
            throw new IOException("reply without choices: " + abbreviate(body));
        }
        return node;
    }

    private static String content(JsonNode reply) {
        JsonNode message = reply.get("choices").get(0).path("message");
        JsonNode content = message.get("content");
        if (content != null && content.isTextual()) return content.asText();
        JsonNode refusal = message.get("refusal");
        return refusal != null && refusal.isTextual() ? refusal.asText() : "";
    }

    /** OpenAI's {@code error.message}, else the start of the body. */
    private static String errorMessage(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            JsonNode message = node == null ? null : node.path("error").get("message");
            if (message != null && message.isTextual()) return message.asText();
        } catch (IOException e) {
            // Not JSON: show the text itself.
        }
        return abbreviate(body);
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    private static Duration seconds(String header) {
        try {
            return Duration.ofMillis((long) (Double.parseDouble(header.strip()) * 1000));
        } catch (NumberFormatException e) {
            return null;        // an HTTP date: fall back to our own backoff
        }
    }

    /** Waits 75-125% of {@code d}, so that parallel workers do not retry in lockstep. */
    private static Duration jittered(Duration d) {
        return Duration.ofMillis((long) (d.toMillis() * (0.75 + 0.5 * ThreadLocalRandom.current().nextDouble())));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (timeout %ds, %d retries)", completions, timeout.toSeconds(), retries);
    }
}
