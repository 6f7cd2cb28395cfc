package dev.vane.server;

import dev.vane.core.InvalidInputException;

import java.time.Duration;

/**
 * How long a client may take over each part of a request, and how many connections may be open at once. Without
 * these a client that sends its headers a byte at a time (slow loris), stalls its body or keeps idle connections
 * open holds a connection forever, and enough of them lock everyone else out.
 *
 * <pre>{@code
 * ServerConfig config = ServerConfig.defaults().withLimits(
 *         ConnectionLimits.defaults().withHeaderTimeout(Duration.ofSeconds(5)));
 * }</pre>
 *
 * @param headerTimeout  from accepting a connection (or, on a kept-alive connection, from the request line) until
 *                       the request's headers are complete; past it the connection is closed
 * @param bodyTimeout    from the end of the headers until the whole body has been read
 * @param idleTimeout    how long a kept-alive connection may wait between the end of one response and the next
 *                       request line
 * @param maxConnections connections open at once; further ones wait in the listen backlog until one closes
 */
public record ConnectionLimits(Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout, int maxConnections) {
    public ConnectionLimits {
        positive("header timeout", headerTimeout);
        positive("body timeout", bodyTimeout);
        positive("idle timeout", idleTimeout);
        if (maxConnections < 1) throw new InvalidInputException("max connections must be >= 1, got " + maxConnections);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) throw new InvalidInputException(what + " must be positive, got " + d);
    }

    /**
     * Headers within 10 s, a body within 30 s, 60 s idle between requests, 512 connections (enough for a full
     * batch and queue of streamed requests, each holding one).
     */
    public static ConnectionLimits defaults() {
        return new ConnectionLimits(Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), 512);
    }

    public ConnectionLimits withHeaderTimeout(Duration d) {
        return new ConnectionLimits(d, bodyTimeout, idleTimeout, maxConnections);
    }

    public ConnectionLimits withBodyTimeout(Duration d) {
        return new ConnectionLimits(headerTimeout, d, idleTimeout, maxConnections);
    }

    public ConnectionLimits withIdleTimeout(Duration d) {
        return new ConnectionLimits(headerTimeout, bodyTimeout, d, maxConnections);
    }

    public ConnectionLimits withMaxConnections(int n) {
        return new ConnectionLimits(headerTimeout, bodyTimeout, idleTimeout, n);
    }
}
