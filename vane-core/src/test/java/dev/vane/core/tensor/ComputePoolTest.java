package dev.vane.core.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class ComputePoolTest {
    @AfterEach
    void restore() {
        ComputePool.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        ComputePool.setThreads(3);
        for (int n : new int[]{0, 1, 2, 3, 7, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            ComputePool.get().parallelFor(n, i -> hits.incrementAndGet(i));
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d index %d", n, i).isEqualTo(1);
        }
    }

    @Test
    void aJobPostedRightAfterThePoolStartsIsNotLost() {
        // Workers that started late used to miss the first job and leave the caller waiting forever.
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int round = 0; round < 300; round++) {
                ComputePool.setThreads(round % 2 == 0 ? 2 : 3);
                int[] out = new int[64];
                ComputePool.get().parallelFor(out.length, i -> out[i] = i * 2);
                for (int i = 0; i < out.length; i++) assertThat(out[i]).isEqualTo(i * 2);
            }
        });
    }

    @Test
    void manySmallJobsInARowComplete() {
        ComputePool.setThreads(2);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            long[] sums = new long[2];
            for (int job = 0; job < 20_000; job++) {
                ComputePool.get().parallelFor(2, i -> sums[i]++);
            }
            assertThat(sums).containsExactly(20_000, 20_000);
        });
    }

    @Test
    void anExceptionInAnyPartReachesTheCaller() {
        ComputePool.setThreads(2);
        assertThatThrownBy(() -> ComputePool.get().parallelFor(10, i -> {
            if (i == 9) throw new IllegalStateException("boom in the worker's range");
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("boom");
        assertThatThrownBy(() -> ComputePool.get().parallelFor(10, i -> {
            if (i == 0) throw new IllegalArgumentException("boom in the caller's range");
        })).isInstanceOf(IllegalArgumentException.class);
        int[] out = new int[4];
        ComputePool.get().parallelFor(4, i -> out[i] = 1);        // still usable afterwards
        assertThat(out).containsExactly(1, 1, 1, 1);
    }
}
