package dev.vane.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slow and vanished clients: a connection that sends its headers a byte at a time, stalls its body or idles is
 * closed at its timeout, open connections are capped, and clients that hang up cost no stack traces. Requests
 * that are merely long-running are not cut. The timeouts here are one second; each test waits for the server to
 * act, up to a limit far above it, so a slow machine makes the tests slower, not wrong.
 */
class ServeTimeoutsTest {
    /** Far above the one-second timeouts: reaching it means the server never closed the connection. */
    private static final long PATIENCE_NANOS = Duration.ofSeconds(30).toNanos();
    private static final ConnectionLimits ONE_SECOND = ConnectionLimits.defaults().withHeaderTimeout(Duration.ofSeconds(1))
            .withBodyTimeout(Duration.ofSeconds(1)).withIdleTimeout(Duration.ofSeconds(1));
    static VaneServer server;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0).withLimits(ONE_SECOND));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Calls {@code step} every 100 ms until the server closes the connection; false if it never does. */
    private static boolean closedWhile(RawHttp c, Runnable step) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < PATIENCE_NANOS) {
            try {
                step.run();
            } catch (RuntimeException e) {
                return true;                        // the write failed: the server closed it
            }
            if (closedByServerWithin(c, 100)) return true;
        }
        return false;
    }

    private static boolean closedByServerWithin(RawHttp c, int millis) {
        try {
            c.socket.setSoTimeout(millis);
        } catch (java.net.SocketException e) {
            return true;
        }
        return c.closedByServer();
    }

    @Test
    void headersSentAByteAtATimeAreCutOff() throws Exception {
        try (RawHttp slow = new RawHttp(server.port())) {
            slow.send("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            assertThat(closedWhile(slow, () -> slow.send(new byte[]{'a'}))).as("closed mid-headers").isTrue();
        }
        assertThat(new Http(server.port(), null).get("/health").status()).isEqualTo(200);
    }

    @Test
    void aConnectionThatNeverSendsARequestLineIsClosed() throws Exception {
        try (RawHttp silent = new RawHttp(server.port())) {
            assertThat(closedWhile(silent, () -> { })).isTrue();
        }
    }

    @Test
    void aStalledBodyIsCutOff() throws Exception {
        try (RawHttp stalled = new RawHttp(server.port())) {
            stalled.send(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 500\r\n\r\n{\"model\": ").getBytes(StandardCharsets.US_ASCII));
            assertThat(closedWhile(stalled, () -> { })).isTrue();
        }
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterItsResponse() throws Exception {
        try (RawHttp idle = new RawHttp(server.port())) {
            idle.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response r = idle.readOne();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().get("connection")).isEqualTo("keep-alive");
            assertThat(closedWhile(idle, () -> { })).isTrue();
        }
    }

    @Test
    void aRequestLongerThanEveryTimeoutIsNotCut() throws Exception {
        ObjectNode body = Http.chat("Can you tell me how to bake bread?", 60).put("stream", true);
        try (InputStream in = new Http(server.port(), null).open("/v1/chat/completions", body)) {
            assertThat(Http.events(in, 1)).hasSize(1);
            Thread.sleep(2_500);                    // longer than header, body and idle timeouts together
            List<String> rest = Http.events(in, Integer.MAX_VALUE);
            assertThat(rest.getLast()).isEqualTo("[DONE]");
        }
        // And a kept-alive connection goes on serving requests (idle between them, headers due again each time).
        try (RawHttp c = new RawHttp(server.port())) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.readOne().status()).isEqualTo(200);
            }
        }
    }

    @Test
    void openConnectionsAreCapped() throws Exception {
        ConnectionLimits two = ConnectionLimits.defaults().withMaxConnections(2);
        try (VaneServer capped = Organism.serve(ServerConfig.defaults().withPort(0).withLimits(two))) {
            RawHttp first = new RawHttp(capped.port()), second = new RawHttp(capped.port()), third = new RawHttp(capped.port());
            try {
                third.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();
                while (capped.openConnections() < 2 && System.nanoTime() - start < PATIENCE_NANOS) Thread.sleep(10);
                assertThat(capped.openConnections()).isEqualTo(2);
                // The third waits in the listen backlog while two are open (it would be answered in milliseconds).
                assertThat(closedByServerWithin(third, 500)).isFalse();
                assertThat(capped.openConnections()).isEqualTo(2);
                first.close();
                third.socket.setSoTimeout(30_000);
                assertThat(third.readResponse().status()).isEqualTo(200);
            } finally {
                for (RawHttp c : List.of(first, second, third)) c.close();
            }
        }
    }

    @Test
    void clientsThatHangUpMidRequestCostOneLogLineNotAStackTraceEach() throws Exception {
        Logger http1 = Logger.getLogger("io.helidon.webserver.http1.Http1Connection");
        AtomicInteger published = new AtomicInteger();
        Handler counter = new Handler() {
            @Override
            public void publish(LogRecord record) {
                published.incrementAndGet();        // only records the logger's filter let through get here
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        http1.addHandler(counter);
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (VaneServer own = Organism.serve(ServerConfig.defaults().withPort(0).withLimits(ONE_SECOND))) {
            List<RawHttp> clients = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                RawHttp c = new RawHttp(own.port());
                c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Half: ".getBytes(StandardCharsets.US_ASCII));
                clients.add(c);
            }
            for (RawHttp c : clients.subList(0, 10)) c.close();            // hang up mid-headers
            for (RawHttp c : clients.subList(10, 20)) {                    // wait out the header timeout
                assertThat(closedWhile(c, () -> { })).isTrue();
                c.close();
            }
            long start = System.nanoTime();
            while (own.openConnections() > 0 && System.nanoTime() - start < PATIENCE_NANOS) Thread.sleep(10);
        } finally {
            System.setErr(stderr);
            http1.removeHandler(counter);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(published.get()).as("records that reach Helidon's log handlers").isZero();
        assertThat(log.lines().filter(l -> l.contains("dropped")).count()).as(log).isEqualTo(1);
        assertThat(log).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
