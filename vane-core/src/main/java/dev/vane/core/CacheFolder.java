package dev.vane.core;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where Vane keeps files it can remake at any time (synthetic benchmark checkpoints, the native BLAS library
 * copied out of its jar): {@code $VANE_CACHE}, else {@code $XDG_CACHE_HOME/vane}, else {@code $HOME/.cache/vane}
 * ({@code user.home} only when HOME is unset: it comes from the password database, so a run with HOME pointed
 * elsewhere - CI, containers, tests - would still write into the real home).
 *
 * <pre>{@code
 * Path dir = CacheFolder.resolve().resolve("bench");
 * }</pre>
 */
public final class CacheFolder {
    private CacheFolder() {
    }

    /** The cache folder for this process's environment (not created). */
    public static Path resolve() {
        return resolve(System.getenv(), System.getProperty("user.home"));
    }

    static Path resolve(Map<String, String> env, String userHome) {
        String vane = env.get("VANE_CACHE");
        if (vane != null && !vane.isBlank()) return Path.of(vane);
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "vane");
        String home = env.get("HOME");
        return Path.of(home != null && !home.isBlank() ? home : userHome, ".cache", "vane");
    }
}
