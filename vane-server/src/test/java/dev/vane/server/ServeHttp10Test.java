package dev.vane.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/1.0, as a stock nginx speaks to upstreams: Helidon speaks only HTTP/1.1, so the answer is a 505 whose
 * body says what to set (docs/decisions.md, "HTTP/1.0"); a proxy set to HTTP/1.1 as the README shows is served,
 * streams included.
 */
class ServeHttp10Test {
    static VaneServer server;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void http10Is505SayingWhatToSetInNginx() {
        for (boolean stream : new boolean[]{false, true}) {
            byte[] body = Http.chat("Hi", 4).put("stream", stream).toString().getBytes(StandardCharsets.UTF_8);
            RawHttp.Response r = RawHttp.exchange(server.port(), "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost"
                    + "\r\nContent-Type: application/json", body);
            assertThat(r.status()).as("stream " + stream).isEqualTo(505);
            assertThat(r.headers()).containsEntry("content-type", "application/json");
            assertThat(r.json().path("error").path("code").asText()).isEqualTo("http_version_not_supported");
            assertThat(r.error()).contains("HTTP/1.1").contains("proxy_http_version 1.1");
        }
    }

    /** What nginx sends with {@code proxy_http_version 1.1}: HTTP/1.1, its upstream as Host, Connection: close. */
    @Test
    void aProxyOnHttp11GetsTheStreamWithBufferingOff() {
        byte[] body = Http.chat("How do I plant tomatoes?", 8).put("stream", true).toString().getBytes(StandardCharsets.UTF_8);
        RawHttp.Response r = RawHttp.exchange(server.port(), "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:"
                + server.port() + "\r\nContent-Type: application/json\r\nX-Forwarded-For: 192.0.2.7", body);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).containsEntry("x-accel-buffering", "no").containsEntry("transfer-encoding", "chunked");
        assertThat(r.body()).contains("data: [DONE]");
    }
}
