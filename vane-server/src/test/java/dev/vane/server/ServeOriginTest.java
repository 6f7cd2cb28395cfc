package dev.vane.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Web pages cannot drive a local server: bodies a page can send without a CORS preflight (text/plain, forms,
 * multipart) get 415, Host names other than loopback (DNS rebinding) get 403, and no CORS header is sent unless
 * an origin is allowed. Requests go over raw sockets, since the JDK's client will not send another Host.
 */
class ServeOriginTest {
    private static final byte[] CHAT = Http.chat("Hi", 2).toString().getBytes(StandardCharsets.UTF_8);
    static VaneServer server;
    static VaneServer opened;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0));
        opened = Organism.serve(ServerConfig.defaults().withPort(0).withAllowedHosts(List.of("vane.lan"))
                .withCorsOrigins(List.of("http://localhost:5173")));
    }

    @AfterAll
    static void stop() {
        server.close();
        opened.close();
    }

    private static RawHttp.Response chat(VaneServer s, String host, String contentType) {
        return RawHttp.post(s.port(), "/v1/chat/completions", host, contentType, CHAT);
    }

    @Test
    void bodiesThatNeedNoPreflightAre415() {
        for (String type : List.of("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x")) {
            RawHttp.Response r = chat(server, "localhost", type);
            assertThat(r.status()).as(type).isEqualTo(415);
            assertThat(r.json().path("error").path("code").asText()).isEqualTo("unsupported_media_type");
            assertThat(r.error()).contains("application/json");
        }
        assertThat(chat(server, "localhost", null).status()).as("no Content-Type").isEqualTo(415);
        assertThat(chat(server, "localhost", "application/json; charset=iso-8859-1").status()).isEqualTo(415);
        assertThat(chat(server, "localhost", "application/json; charset=utf-8").status()).isEqualTo(200);
        assertThat(chat(server, "localhost", "Application/JSON").status()).isEqualTo(200);
    }

    @Test
    void onLoopbackOnlyLoopbackHostNamesAreAnswered() {
        for (String host : List.of("localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:" + server.port(), "[::1]",
                "[::1]:8080", "LOCALHOST")) {
            assertThat(chat(server, host, "application/json").status()).as(host).isEqualTo(200);
        }
        for (String host : List.of("evil.example", "evil.example:" + server.port(), "localhost.evil.example",
                "127.0.0.1.nip.io", "vane.lan")) {
            RawHttp.Response r = chat(server, host, "application/json");
            assertThat(r.status()).as(host).isEqualTo(403);
            assertThat(r.json().path("error").path("code").asText()).isEqualTo("host_not_allowed");
            assertThat(r.error()).contains("--allowed-hosts");
        }
        // Reading endpoints too: a rebound page must not read the model list or health either.
        RawHttp.Response health = RawHttp.exchange(server.port(), "GET /health HTTP/1.1\r\nHost: evil.example", new byte[0]);
        assertThat(health.status()).isEqualTo(403);
    }

    @Test
    void allowedHostsAddNamesToLoopbacks() {
        assertThat(chat(opened, "vane.lan:8080", "application/json").status()).isEqualTo(200);
        assertThat(chat(opened, "localhost", "application/json").status()).isEqualTo(200);
        assertThat(chat(opened, "evil.example", "application/json").status()).isEqualTo(403);
    }

    @Test
    void noCorsHeadersUnlessTheOriginIsAllowed() {
        String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                + "\r\nOrigin: https://evil.example";
        RawHttp.Response plain = RawHttp.exchange(server.port(), head, CHAT);
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
        RawHttp.Response preflight = RawHttp.exchange(server.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: "
                + "localhost\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST", new byte[0]);
        assertThat(preflight.status()).isEqualTo(403);
        assertThat(preflight.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
    }

    @Test
    void anAllowedOriginGetsPreflightAndItsOwnOriginBack() {
        RawHttp.Response preflight = RawHttp.exchange(opened.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: "
                + "localhost\r\nOrigin: http://localhost:5173\r\nAccess-Control-Request-Method: POST\r\n"
                + "Access-Control-Request-Headers: authorization, content-type, x-stainless-os", new byte[0]);
        assertThat(preflight.status()).isEqualTo(204);
        assertThat(preflight.headers()).containsEntry("access-control-allow-origin", "http://localhost:5173")
                .containsEntry("access-control-allow-headers", "authorization, content-type, x-stainless-os")
                .containsEntry("access-control-max-age", "600");
        assertThat(preflight.headers().get("access-control-allow-methods")).contains("POST");

        String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json";
        RawHttp.Response allowed = RawHttp.exchange(opened.port(), head + "\r\nOrigin: http://localhost:5173", CHAT);
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.headers()).containsEntry("access-control-allow-origin", "http://localhost:5173")
                .containsEntry("vary", "Origin");
        RawHttp.Response other = RawHttp.exchange(opened.port(), head + "\r\nOrigin: http://localhost:5174", CHAT);
        assertThat(other.headers()).doesNotContainKey("access-control-allow-origin");
        RawHttp.Response otherPreflight = RawHttp.exchange(opened.port(), "OPTIONS /v1/chat/completions HTTP/1.1\r\n"
                + "Host: localhost\r\nOrigin: http://localhost:5174\r\nAccess-Control-Request-Method: POST", new byte[0]);
        assertThat(otherPreflight.status()).isEqualTo(403);
        assertThat(otherPreflight.headers()).doesNotContainKey("access-control-allow-origin");
    }
}
