package dev.vane.core;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Where Vane caches files: VANE_CACHE, then XDG_CACHE_HOME, then $HOME (user.home only without HOME). */
class CacheFolderTest {
    @Test
    void vaneCacheThenXdgThenHome() {
        assertThat(CacheFolder.resolve(Map.of("VANE_CACHE", "/v", "XDG_CACHE_HOME", "/x", "HOME", "/h"), "/u"))
                .isEqualTo(Path.of("/v"));
        assertThat(CacheFolder.resolve(Map.of("XDG_CACHE_HOME", "/x", "HOME", "/h"), "/u")).isEqualTo(Path.of("/x/vane"));
        assertThat(CacheFolder.resolve(Map.of("VANE_CACHE", " ", "HOME", "/h"), "/u")).isEqualTo(Path.of("/h/.cache/vane"));
        assertThat(CacheFolder.resolve(Map.of(), "/u")).isEqualTo(Path.of("/u/.cache/vane"));
    }
}
