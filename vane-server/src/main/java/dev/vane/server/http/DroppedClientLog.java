package dev.vane.server.http;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One log line at most per period for connections the server dropped: clients that hung up mid-request and
 * clients past a timeout. Sixty slow-loris clients used to cost a stack trace each (18 lines apiece); these are
 * the client's doing, not the server's, and one counted line says all there is to say. The first drop is written
 * at once; later ones are summed and written when the period has passed.
 *
 * <pre>{@code
 * DroppedClientLog log = new DroppedClientLog(System.err::println, Duration.ofMinutes(1), System::nanoTime);
 * log.dropped("header timeout");
 * // vane serve: dropped 1 client connection (header timeout: 1); more are summed up once a minute
 * }</pre>
 */
public final class DroppedClientLog {
    private final Consumer<String> out;
    private final long periodNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Integer> counts = new LinkedHashMap<>();
    private long lastWritten;
    private boolean written;

    public DroppedClientLog(Consumer<String> out, Duration period, LongSupplier nanoTime) {
        this.out = out;
        this.periodNanos = period.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Counts one dropped connection for {@code reason}; writes a line if none was written within the period. */
    public void dropped(String reason) {
        String line;
        synchronized (this) {
            counts.merge(reason, 1, Integer::sum);
            line = takeLineIfDue();
        }
        if (line != null) out.accept(line);
    }

    /** Writes the drops counted since the last line, if the period has passed since it. */
    public void flushIfDue() {
        String line;
        synchronized (this) {
            line = counts.isEmpty() ? null : takeLineIfDue();
        }
        if (line != null) out.accept(line);
    }

    private String takeLineIfDue() {
        long now = nanoTime.getAsLong();
        if (written && now - lastWritten < periodNanos) return null;
        int total = 0;
        StringJoiner reasons = new StringJoiner(", ");
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            total += e.getValue();
            reasons.add(e.getKey() + ": " + e.getValue());
        }
        String line = "vane serve: dropped " + total + " client connection" + (total == 1 ? "" : "s") + " (" + reasons + ")"
                + (written ? " in the last " + Duration.ofNanos(now - lastWritten).toSeconds() + " s"
                : "; more are summed up every " + Duration.ofNanos(periodNanos).toSeconds() + " s");
        counts.clear();
        written = true;
        lastWritten = now;
        return line;
    }
}
