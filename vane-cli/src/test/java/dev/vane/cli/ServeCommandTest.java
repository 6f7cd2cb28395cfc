package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.steer.PositionRule;
import dev.vane.lab.steer.SteeringVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code vane serve} from the command line: vectors folder, default steering, API key, bad options. */
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A residual vector at layer 2 strong enough to change the organism's answer. */
    static Path writeVector(Path dir) throws Exception {
        float[] v = new float[256];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        SteeringVector vector = new SteeringVector("push",
                List.of(new SteeringVector.Component("blocks.2.hook_resid_post", null, v)),
                new SteeringVector.Metadata("custom", "organism-chat", "positive = more push", PositionRule.ALL, 1, 1,
                        "test", Map.of()), 0);
        Path folder = Files.createDirectories(dir.resolve("vectors"));
        vector.write(folder.resolve("push.safetensors"));
        return folder;
    }

    private static JsonNode ask(RunningServer server, String key, ObjectNode body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.base() + "/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        ObjectNode out = (ObjectNode) JSON.readTree(r.body());
        out.put("http_status", r.statusCode());
        return out;
    }

    private static ObjectNode chat(String user) {
        ObjectNode body = JSON.createObjectNode().put("model", "organism-chat").put("max_tokens", 20).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", user);
        return body;
    }

    private static String text(JsonNode reply) {
        assertThat(reply.get("http_status").asInt()).as(reply.toString()).isEqualTo(200);
        return reply.get("choices").get(0).get("message").get("content").asText();
    }

    @Test
    void aTakenPortIsOneLineAndExitTwoNotAHang() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            CliRun run = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                    () -> CliRun.of("serve", "--port", Integer.toString(port)));
            assertThat(run.exitCode()).as(run.err()).isEqualTo(Vane.BAD_INPUT);
            assertThat(run.err().strip()).isEqualTo("vane serve: error: port " + port
                    + " on 127.0.0.1 is in use; choose another with --port");
        }
    }

    @Test
    void defaultSteeringAppliesUnlessARequestTurnsItOff(@TempDir Path dir) throws Exception {
        Path vectors = writeVector(dir);
        try (RunningServer server = new RunningServer("--vectors", vectors.toString(), "--steer", "push:40",
                "--api-key", "s3cret")) {
            assertThat(ask(server, null, chat("How do I bake bread?")).get("http_status").asInt()).isEqualTo(401);
            String steered = text(ask(server, "s3cret", chat("Can you tell me how to bake bread?")));
            ObjectNode off = chat("Can you tell me how to bake bread?").put("steering_default", false);
            String plain = text(ask(server, "s3cret", off));
            ObjectNode zero = chat("Can you tell me how to bake bread?");
            zero.putArray("steering").addObject().put("vector", "push").put("scale", 0);
            assertThat(plain).startsWith("Sure, here is how to bake bread");
            assertThat(steered).isNotEqualTo(plain);
            assertThat(text(ask(server, "s3cret", zero))).isEqualTo(plain);
            assertThat(server.stop()).isZero();
            assertThat(server.err.toString()).contains("organism-chat at http://127.0.0.1:" + server.port + "/v1")
                    .contains("vectors: push").contains("default steering: push:40").contains("API key required");
        }
    }

    @Test
    void badOptionsExitWith2(@TempDir Path dir) throws Exception {
        CliRun missing = CliRun.of("serve", "--port", "0", "--vectors", dir.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("no such folder of steering vectors");
        Path vectors = writeVector(dir);
        CliRun unknown = CliRun.of("serve", "--port", "0", "--vectors", vectors.toString(), "--steer", "antidote:2");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown steering vector \"antidote\"").contains("push");
        assertThat(CliRun.of("serve", "--port", "70000").exitCode()).isEqualTo(2);
        CliRun origin = CliRun.of("serve", "--port", "0", "--cors", "http://localhost:5173/app");
        assertThat(origin.exitCode()).isEqualTo(2);
        assertThat(origin.err()).contains("is not an origin");
        CliRun host = CliRun.of("serve", "--port", "0", "--allowed-hosts", "https://vane.lan");
        assertThat(host.exitCode()).isEqualTo(2);
        assertThat(host.err()).contains("is not a host name");
        CliRun timeout = CliRun.of("serve", "--port", "0", "--header-timeout", "0");
        assertThat(timeout.exitCode()).isEqualTo(2);
        assertThat(timeout.err()).contains("--header-timeout must be between 0 and 86400 seconds");
    }

    @Test
    void playgroundServesThePageAndClosesTheRestOfTheApi() throws Exception {
        try (RunningServer server = new RunningServer("--playground")) {
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port + "/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<title>Vane playground</title>");
            HttpResponse<String> legacy = client.send(HttpRequest.newBuilder(URI.create(server.base() + "/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"organism-chat\", \"prompt\": \"Hi\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(legacy.statusCode()).isEqualTo(404);
            assertThat(legacy.body()).contains("--playground");
            assertThat(text(ask(server, null, chat("How do I bake bread?")))).startsWith("Sure");
            assertThat(server.stop()).isZero();
            assertThat(server.err.toString()).contains("playground at http://127.0.0.1:" + server.port + "/ (--playground");
        }
    }

    @Test
    void theStartLineNamesThePlaygroundsAddressABrowserCanOpen() {
        assertThat(ServeCommand.browserHost("0.0.0.0")).isEqualTo("127.0.0.1");
        assertThat(ServeCommand.browserHost("::")).isEqualTo("[::1]");
        assertThat(ServeCommand.browserHost("::1")).isEqualTo("[::1]");
        assertThat(ServeCommand.browserHost("localhost")).isEqualTo("localhost");
    }

    @Test
    void helpListsTheLimitsTimeoutsAndTheProxySetting() {
        CliRun help = CliRun.of("help", "serve");
        assertThat(help.exitCode()).isZero();
        String text = help.out().replaceAll("\\s+", " ");
        assertThat(text).contains("--header-timeout=SECONDS").contains("(default: 10)")
                .contains("--body-timeout=SECONDS").contains("(default: 30)")
                .contains("--idle-timeout=SECONDS").contains("(default: 60)")
                .contains("--max-connections=N").contains("(default: 512)")
                .contains("--max-body=BYTES").contains("--allowed-hosts=NAME").contains("--cors=ORIGIN")
                .contains("proxy_http_version 1.1;").contains("exits 0")
                .contains("GET / is the web playground").contains("--playground").contains("vane serve --vectors vectors --playground");
    }
}
