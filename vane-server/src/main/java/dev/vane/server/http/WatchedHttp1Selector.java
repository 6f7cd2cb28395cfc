package dev.vane.server.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.task.InterruptableTask;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.time.Duration;
import java.util.Set;

/**
 * Helidon's HTTP/1.1 connections, each watched by a {@link ConnectionWatchdog} from the moment it is accepted.
 * Registered as the listener's only connection selector (service discovery of protocols off), Helidon hands
 * every new connection to it before reading a byte, so even a client that never sends its request line has a
 * deadline.
 */
public final class WatchedHttp1Selector implements ServerConnectionSelector {
    private final ConnectionWatchdog watchdog;
    private final Http1ConnectionSelector http1;

    WatchedHttp1Selector(ConnectionWatchdog watchdog) {
        this.watchdog = watchdog;
        Http1ConnectionListener requestLines = new Http1ConnectionListener() {
            @Override
            public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
                watchdog.requestLineRead();
            }
        };
        this.http1 = Http1ConnectionSelector.builder()
                .config(Http1Config.builder().addReceiveListener(requestLines).build())
                .build();
    }

    @Override
    public int bytesToIdentifyConnection() {
        return http1.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(BufferData data) {
        return http1.supports(data);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http1.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new Watched(watchdog.watch(ctx), http1.connection(ctx));
    }

    /** A connection handled by Helidon with its watch bound for the whole time. */
    private static final class Watched implements ServerConnection, InterruptableTask<Void> {
        private final ConnectionWatchdog.Watch watch;
        private final ServerConnection connection;

        Watched(ConnectionWatchdog.Watch watch, ServerConnection connection) {
            this.watch = watch;
            this.connection = connection;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            try {
                ScopedValue.where(ConnectionWatchdog.CURRENT, watch).call(() -> {
                    connection.handle(limit);
                    return null;
                });
            } finally {
                watch.forget();
            }
        }

        @Override
        public Duration idleTime() {
            return connection.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            connection.close(interrupt);
        }

        @Override
        public boolean canInterrupt() {
            return connection instanceof InterruptableTask<?> task && task.canInterrupt();
        }
    }
}
