package dev.vane.server.http;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Dropped connections are counted, and written as one line at most per period (a clock the test moves). */
class DroppedClientLogTest {
    private final List<String> lines = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(5);
    private final DroppedClientLog log = new DroppedClientLog(lines::add, Duration.ofSeconds(60), now::get);

    @Test
    void theFirstDropIsWrittenAtOnceAndABurstAfterItIsOneSummedLine() {
        log.dropped("header timeout");
        assertThat(lines).containsExactly(
                "vane serve: dropped 1 client connection (header timeout: 1); more are summed up every 60 s");
        for (int i = 0; i < 59; i++) log.dropped(i % 2 == 0 ? "header timeout" : "hung up mid-request");
        now.addAndGet(Duration.ofSeconds(59).toNanos());
        log.flushIfDue();
        assertThat(lines).hasSize(1);
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        log.flushIfDue();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).isEqualTo(
                "vane serve: dropped 59 client connections (header timeout: 30, hung up mid-request: 29) in the last 60 s");
        now.addAndGet(Duration.ofMinutes(5).toNanos());
        log.flushIfDue();
        assertThat(lines).as("nothing new, nothing written").hasSize(2);
    }
}
