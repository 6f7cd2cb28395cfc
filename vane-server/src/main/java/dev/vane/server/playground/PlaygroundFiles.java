package dev.vane.server.playground;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The web playground's files (HTML, CSS, JavaScript, icon), bundled in the jar under
 * {@code dev/vane/server/playground/}, read once at start and served from memory under fixed paths: a request can
 * name only one of these, never a file. Every file goes out with a strict Content-Security-Policy
 * ({@link #CONTENT_SECURITY_POLICY}: the page loads and connects to this server only, runs no inline script or
 * style, and cannot be framed) and headers that keep browsers from guessing types or sending referrers.
 *
 * <pre>{@code
 * PlaygroundFiles files = PlaygroundFiles.load();
 * files.find("/").ifPresent(f -> files.send(f, response));     // index.html
 * }</pre>
 */
public final class PlaygroundFiles {
    /**
     * Only this server, only files (no inline script, style or event handler, so an answer that slipped into the
     * page as markup could not run), no plugins, forms or frames. {@code img-src} admits the icon.
     */
    public static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** One file: its bytes and media type. */
    public record File(String name, byte[] bytes, String contentType) {
    }

    /** Request path to file name. */
    private static final Map<String, String> PATHS = Map.of(
            "/", "index.html",
            "/playground/playground.css", "playground.css",
            "/playground/playground.js", "playground.js",
            "/playground/icon.svg", "icon.svg");

    private final Map<String, File> byPath;

    private PlaygroundFiles(Map<String, File> byPath) {
        this.byPath = byPath;
    }

    /** Reads the bundled files. */
    public static PlaygroundFiles load() {
        HashMap<String, File> files = new HashMap<>();
        PATHS.forEach((path, name) -> files.put(path, new File(name, read(name), contentType(name))));
        return new PlaygroundFiles(Map.copyOf(files));
    }

    /** The file served at {@code path}, if any. */
    public Optional<File> find(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    /** Sends {@code file} with status 200 and the playground's security headers. */
    public void send(File file, ServerResponse res) {
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, file.contentType());
        res.header(HeaderNames.create("Content-Security-Policy"), CONTENT_SECURITY_POLICY);
        res.header(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
        res.header(HeaderNames.create("X-Frame-Options"), "DENY");
        res.header(HeaderNames.create("Cross-Origin-Opener-Policy"), "same-origin");
        // A new Vane version brings new files under the same names: the browser asks again each time.
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.send(file.bytes());
    }

    private static byte[] read(String name) {
        try (InputStream in = PlaygroundFiles.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("the playground's " + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the playground's " + name, e);
        }
    }

    private static String contentType(String name) {
        if (name.endsWith(".html")) return "text/html; charset=utf-8";
        if (name.endsWith(".css")) return "text/css; charset=utf-8";
        if (name.endsWith(".js")) return "text/javascript; charset=utf-8";
        if (name.endsWith(".svg")) return "image/svg+xml";
        throw new IllegalArgumentException("no media type for " + name);
    }
}
