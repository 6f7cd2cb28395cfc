package dev.vane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code vane serve} as its own process: what it logs for slow clients, and its exit code after SIGTERM. */
class ServeProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Sixty slow-loris clients (half hang up mid-headers, half wait for the header timeout) once cost 18 log lines
     * each; now they are one counted line. SIGTERM then lets a streamed request finish and the process exits 0,
     * not the JVM's 143.
     */
    @Test
    void slowClientsCostOneLogLineAndSigtermDrainsThenExitsZero(@TempDir Path tmp) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (VaneProcess serve = VaneProcess.start(tmp.resolve("serve.log"),
                List.of("serve", "--port", Integer.toString(port), "--header-timeout", "1"))) {
            awaitHealthy(serve, port);
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                Socket c = new Socket(InetAddress.getLoopbackAddress(), port);
                c.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
                        .getBytes(StandardCharsets.US_ASCII));
                clients.add(c);
            }
            for (Socket c : clients.subList(0, 30)) c.close();
            for (Socket c : clients.subList(30, 60)) {
                c.setSoTimeout(30_000);
                try (InputStream in = c.getInputStream()) {
                    assertThat(in.read()).as("closed by the server").isEqualTo(-1);
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("a slow client was not cut off: " + serve.log());
                } catch (IOException e) {
                    // reset by the server: cut off too
                }
            }

            ObjectNode body = JSON.createObjectNode().put("model", "organism-chat").put("max_tokens", 200)
                    .put("temperature", 0).put("stream", true);
            body.putArray("messages").addObject().put("role", "user").put("content", "Can you tell me how to bake bread?");
            HttpResponse<InputStream> stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.statusCode()).isEqualTo(200);
            BufferedReader events = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            assertThat(events.readLine()).startsWith("data: ");
            // SIGTERM mid-stream: the stream still ends properly, then the process exits 0.
            CompletableFuture<Integer> exitCode = CompletableFuture.supplyAsync(() -> {
                try {
                    return serve.terminate();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            String last = null;
            for (String line; (line = events.readLine()) != null; ) if (!line.isEmpty()) last = line;
            assertThat(last).isEqualTo("data: [DONE]");
            assertThat(exitCode.get(1, TimeUnit.MINUTES)).as(serve.log()).isZero();

            String log = serve.log();
            assertThat(log).contains("vane serve: shutting down").contains("vane serve: stopped")
                    .doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(log.lines().filter(l -> l.contains("dropped")).toList()).as(log).hasSize(1);
            assertThat(log.lines().count()).as(log).isLessThanOrEqualTo(6);
        }
    }

    private static void awaitHealthy(VaneProcess serve, int port) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        for (int i = 0; i < 1200; i++) {
            if (!serve.isAlive()) throw new AssertionError("vane serve exited: " + serve.log());
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("vane serve did not come up: " + serve.log());
    }
}
