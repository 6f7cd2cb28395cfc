package dev.vane.server.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ServerConnectionException;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Closes connections whose client takes too long: to send its request line and headers (header timeout, counted
 * from the accept, or from the end of the previous response plus the request line on a kept-alive connection), to
 * send its body (body timeout, from the end of the headers), or to start its next request (idle timeout). Helidon
 * 4.5 has none of the first two: its socket read timeout is not applied to server connections and its idle check
 * only looks between requests, so a client sending headers a byte at a time held its connection forever.
 *
 * <p>Each connection gets a {@link Watch} with a deadline; one thread looks at all deadlines a few times per
 * shortest timeout and closes the sockets past theirs, which ends the blocked read. The request handling tells
 * the watch where it is ({@link #requestStarted}, {@link #bodyRead}, {@link #requestDone}) from the connection's
 * own thread, which is where Helidon runs HTTP/1 handlers; the watch travels there as a scoped value.
 *
 * <pre>{@code
 * ConnectionWatchdog watchdog = new ConnectionWatchdog(Duration.ofSeconds(10), Duration.ofSeconds(30),
 *         Duration.ofSeconds(60), log);
 * WebServer.builder().connectionSelectors(List.of(watchdog.http1Selector())) ...
 * }</pre>
 */
public final class ConnectionWatchdog implements AutoCloseable {
    static final ScopedValue<Watch> CURRENT = ScopedValue.newInstance();
    /** Held here: java.util.logging keeps loggers weakly, and a collected logger would lose its filter. */
    private static final Logger HTTP1_LOG = Logger.getLogger("io.helidon.webserver.http1.Http1Connection");

    private final long headerNanos;
    private final long bodyNanos;
    private final long idleNanos;
    private final DroppedClientLog log;
    private final Set<Watch> open = ConcurrentHashMap.newKeySet();
    private final Thread ticker;
    private volatile boolean closed;

    public ConnectionWatchdog(Duration header, Duration body, Duration idle, DroppedClientLog log) {
        this.headerNanos = header.toNanos();
        this.bodyNanos = body.toNanos();
        this.idleNanos = idle.toNanos();
        this.log = log;
        installHangUpFilter();
        // A tenth of the shortest timeout: a connection outlives its deadline by at most that much.
        long shortest = Math.min(headerNanos, Math.min(bodyNanos, idleNanos));
        long tickMillis = Math.clamp(shortest / 10_000_000, 10, 500);
        this.ticker = Thread.ofPlatform().daemon().name("vane-serve-watchdog").start(() -> run(tickMillis));
    }

    /** The HTTP/1.1 connection selector whose connections this watchdog watches. */
    public WatchedHttp1Selector http1Selector() {
        return new WatchedHttp1Selector(this);
    }

    /** Connections open now. */
    public int openConnections() {
        return open.size();
    }

    Watch watch(ConnectionContext ctx) {
        Watch w = new Watch(this, ctx.serverSocket());
        w.expect("header timeout", headerNanos);
        open.add(w);
        return w;
    }

    /** On the connection's thread, once the request line and headers are in; {@code hasBody}: a body follows. */
    public static void requestStarted(boolean hasBody) {
        if (!CURRENT.isBound()) return;
        Watch w = CURRENT.get();
        if (hasBody) w.expect("body timeout", w.owner.bodyNanos);
        else w.clear();
    }

    /** On the connection's thread, once the handler has read the whole body. */
    public static void bodyRead() {
        if (CURRENT.isBound()) CURRENT.get().clear();
    }

    /** On the connection's thread, once the response is written: the connection idles until the next request. */
    public static void requestDone() {
        if (!CURRENT.isBound()) return;
        Watch w = CURRENT.get();
        w.expect(null, w.owner.idleNanos);
    }

    /** A kept-alive connection's next request line arrived: its headers are due within the header timeout. */
    void requestLineRead() {
        if (!CURRENT.isBound()) return;
        Watch w = CURRENT.get();
        if (w.idle()) w.expect("header timeout", headerNanos);
    }

    private void run(long tickMillis) {
        while (!closed) {
            try {
                Thread.sleep(tickMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Watch w : open) {
                String reason = w.expire(now);
                if (reason == null) continue;
                open.remove(w);
                try {
                    // Closing the socket ends the connection thread's blocked read; the connection then winds down.
                    w.socket.close();
                } catch (RuntimeException e) {
                    continue;                       // closed already (the connection ended meanwhile)
                }
                if (!reason.isEmpty()) log.dropped(reason);
            }
            log.flushIfDue();
        }
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
    }

    /**
     * Helidon logs a client that hangs up mid-request as an internal error with a stack trace (18 lines each).
     * This filter turns those into a count in the owning server's {@link DroppedClientLog}; records of other
     * threads and real errors pass untouched.
     */
    private static synchronized void installHangUpFilter() {
        Filter existing = HTTP1_LOG.getFilter();
        if (existing instanceof HangUpFilter) return;
        HTTP1_LOG.setFilter(new HangUpFilter(existing));
    }

    private record HangUpFilter(Filter next) implements Filter {
        @Override
        public boolean isLoggable(LogRecord record) {
            if (CURRENT.isBound() && clientWentAway(record.getThrown())) {
                Watch w = CURRENT.get();
                if (!w.dropped()) w.owner.log.dropped("hung up mid-request");
                return false;
            }
            return next == null || next.isLoggable(record);
        }

        private static boolean clientWentAway(Throwable t) {
            for (int depth = 0; t != null && depth < 10; t = t.getCause(), depth++) {
                if (t instanceof DataReader.InsufficientDataAvailableException || t instanceof ServerConnectionException) {
                    return true;
                }
            }
            return false;
        }
    }

    /** One connection's deadline; {@code reason} null while it idles between requests. */
    static final class Watch {
        private final ConnectionWatchdog owner;
        private final HelidonSocket socket;
        private long deadline = Long.MAX_VALUE;
        private String reason;
        private boolean expired;

        Watch(ConnectionWatchdog owner, HelidonSocket socket) {
            this.owner = owner;
            this.socket = socket;
        }

        synchronized void expect(String why, long withinNanos) {
            reason = why;
            deadline = System.nanoTime() + withinNanos;
        }

        synchronized void clear() {
            reason = null;
            deadline = Long.MAX_VALUE;
        }

        synchronized boolean idle() {
            return reason == null && deadline != Long.MAX_VALUE;
        }

        /** The connection has ended: nothing left to watch. */
        void forget() {
            owner.open.remove(this);
        }

        synchronized boolean dropped() {
            return expired;
        }

        /** The reason when the deadline has passed ("" for idling, which is nothing to report), else null. */
        synchronized String expire(long now) {
            if (expired || deadline == Long.MAX_VALUE || now - deadline < 0) return null;
            expired = true;
            return reason == null ? "" : reason;
        }
    }
}
