package dev.vane.server.http;

import dev.vane.core.InvalidInputException;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may call the server cross-origin. By default none: no response carries an
 * {@code Access-Control-Allow-Origin} header, so a page on another origin cannot read any answer, and a JSON
 * request (which needs a preflight) never reaches a handler. Listed origins get exactly their own origin back,
 * never {@code *}.
 *
 * <pre>{@code
 * CorsPolicy cors = CorsPolicy.of(List.of("http://localhost:5173"));
 * cors.allows("http://localhost:5173");   // true
 * cors.allows("https://evil.example");    // false
 * }</pre>
 */
public final class CorsPolicy {
    /** How long a browser may reuse a preflight answer, in seconds. */
    public static final int PREFLIGHT_MAX_AGE = 600;

    private final Set<String> origins;

    private CorsPolicy(Set<String> origins) {
        this.origins = origins;
    }

    /** A policy allowing {@code origins} ({@code scheme://host[:port]} each); empty allows none. */
    public static CorsPolicy of(List<String> origins) {
        return new CorsPolicy(origins.stream().map(CorsPolicy::normalised).collect(Collectors.toUnmodifiableSet()));
    }

    private static String normalised(String origin) {
        String o = origin.strip();
        URI uri;
        try {
            uri = URI.create(o);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null || uri.getScheme() == null || uri.getHost() == null || uri.getRawUserInfo() != null
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty()) || uri.getRawQuery() != null
                || uri.getRawFragment() != null || !(o.startsWith("http://") || o.startsWith("https://"))) {
            throw new InvalidInputException("CORS origin \"" + origin + "\" is not an origin: give scheme://host[:port],"
                    + " e.g. http://localhost:5173, with no path");
        }
        return o.toLowerCase(Locale.ROOT);
    }

    /** True when a request with this {@code Origin} header (null when absent) comes from an allowed origin. */
    public boolean allows(String origin) {
        return origin != null && origins.contains(origin.toLowerCase(Locale.ROOT));
    }

    /** Whether any origin is allowed at all. */
    public boolean isEmpty() {
        return origins.isEmpty();
    }
}
