package dev.vane.server;

import dev.vane.core.InvalidInputException;

import java.time.Duration;
import java.util.List;

/**
 * How a {@link VaneServer} listens and what it allows.
 *
 * <pre>{@code
 * ServerConfig config = ServerConfig.defaults().withPort(0).withApiKey("secret");   // port 0: any free port
 * }</pre>
 *
 * @param host          address to bind; loopback by default so nothing outside the machine can reach it
 * @param port          TCP port (0 picks a free one)
 * @param apiKey        bearer key every /v1 request must carry, or null for none
 * @param maxBatch      sequences decoded together in one forward pass
 * @param maxWaiting    sequences that may wait behind a full batch; beyond that requests get 429
 * @param maxBodyBytes  largest request body accepted (413 beyond)
 * @param maxTokens     largest {@code max_tokens} a request may ask for
 * @param maxChoices    largest number of choices (prompts x n) per request
 * @param shutdownGrace how long a shutdown lets requests in flight finish before ending them ("abort")
 * @param allowedHosts  {@code Host} names accepted besides the loopback names a loopback bind always accepts
 *                      ({@code "*"}: any); empty on a loopback bind means loopback names only, which is what keeps
 *                      web pages on other names (DNS rebinding) from reading answers
 * @param corsOrigins   browser origins ({@code https://app.example}) allowed to call the API cross-origin; empty:
 *                      none, so no CORS headers are ever sent
 * @param limits        timeouts for headers, body and idle connections, and the cap on open connections
 * @param playgroundOnly answer only the web playground and the endpoints it uses ({@code vane serve --playground}):
 *                      {@code /v1/completions} and {@code /v1/models} are closed
 */
public record ServerConfig(String host, int port, String apiKey, int maxBatch, int maxWaiting, long maxBodyBytes,
                           int maxTokens, int maxChoices, Duration shutdownGrace, List<String> allowedHosts,
                           List<String> corsOrigins, ConnectionLimits limits, boolean playgroundOnly) {
    public ServerConfig {
        if (port < 0 || port > 65535) throw new InvalidInputException("port must be 0-65535, got " + port);
        if (maxBatch < 1) throw new InvalidInputException("max batch must be >= 1, got " + maxBatch);
        if (maxWaiting < 1) throw new InvalidInputException("max waiting must be >= 1, got " + maxWaiting);
        if (maxBodyBytes < 1024) throw new InvalidInputException("max body must be >= 1024 bytes, got " + maxBodyBytes);
        if (maxTokens < 1) throw new InvalidInputException("max tokens must be >= 1, got " + maxTokens);
        if (maxChoices < 1) throw new InvalidInputException("max choices must be >= 1, got " + maxChoices);
        if (apiKey != null && apiKey.isBlank()) throw new InvalidInputException("the API key is empty");
        if (shutdownGrace.isNegative()) throw new InvalidInputException("shutdown grace must not be negative");
        allowedHosts = List.copyOf(allowedHosts);
        corsOrigins = List.copyOf(corsOrigins);
        if (limits == null) throw new InvalidInputException("connection limits are missing");
    }

    /**
     * 127.0.0.1:8080, no key, batches of 16, 256 waiting, 1 MiB bodies, 2048 tokens, 16 choices, 30 s grace,
     * loopback Host names only, no CORS, {@link ConnectionLimits#defaults()}, every endpoint open.
     */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", 8080, null, 16, 256, 1 << 20, 2048, 16, Duration.ofSeconds(30),
                List.of(), List.of(), ConnectionLimits.defaults(), false);
    }

    public ServerConfig withHost(String h) {
        return new ServerConfig(h, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withPort(int p) {
        return new ServerConfig(host, p, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withApiKey(String key) {
        return new ServerConfig(host, port, key, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withMaxBatch(int n) {
        return new ServerConfig(host, port, apiKey, n, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withMaxWaiting(int n) {
        return new ServerConfig(host, port, apiKey, maxBatch, n, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withMaxBodyBytes(long n) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, n, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withMaxTokens(int n) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, n, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withShutdownGrace(Duration grace) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, grace,
                allowedHosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withAllowedHosts(List<String> hosts) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                hosts, corsOrigins, limits, playgroundOnly);
    }

    public ServerConfig withCorsOrigins(List<String> origins) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, origins, limits, playgroundOnly);
    }

    public ServerConfig withLimits(ConnectionLimits l) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, l, playgroundOnly);
    }

    public ServerConfig withPlaygroundOnly(boolean only) {
        return new ServerConfig(host, port, apiKey, maxBatch, maxWaiting, maxBodyBytes, maxTokens, maxChoices, shutdownGrace,
                allowedHosts, corsOrigins, limits, only);
    }
}
