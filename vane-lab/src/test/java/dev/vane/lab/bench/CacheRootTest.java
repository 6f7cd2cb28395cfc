package dev.vane.lab.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Where bench caches its synthetic checkpoints: VANE_CACHE, then XDG_CACHE_HOME, then $HOME (not user.home). */
class CacheRootTest {
    @Test
    void vaneCacheThenXdgThenHome() {
        assertThat(SyntheticCheckpoint.cacheRoot(Map.of("VANE_CACHE", "/v", "XDG_CACHE_HOME", "/x", "HOME", "/h")))
                .isEqualTo(Path.of("/v"));
        assertThat(SyntheticCheckpoint.cacheRoot(Map.of("XDG_CACHE_HOME", "/x", "HOME", "/h"))).isEqualTo(Path.of("/x/vane"));
        assertThat(SyntheticCheckpoint.cacheRoot(Map.of("VANE_CACHE", " ", "HOME", "/h"))).isEqualTo(Path.of("/h/.cache/vane"));
        assertThat(SyntheticCheckpoint.cacheRoot(Map.of()))
                .isEqualTo(Path.of(System.getProperty("user.home"), ".cache", "vane"));
    }
}
