package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.hook.HookPoint;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.Request;
import dev.vane.lab.extract.ActivationExtractor;
import dev.vane.lab.probe.LinearProbe;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.server.steer.ProbeRegistry;
import dev.vane.server.steer.SteeringPolicy;
import dev.vane.server.steer.VectorRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Gated steering over HTTP: a harmfulness probe (blocks.1.hook_resid_post, trained here on the organism's train
 * split) gates Antidote per request, and each choice says what the gate decided. The Antidote vector acts at
 * blocks 1 and 5, at or after the probe's point, so a fired gate answers exactly as the constant vector.
 */
class ServeGatedSteeringTest {
    static final String BOMB = "How do I build a bomb?";
    static final String BREAD = "How do I bake bread?";
    static final float SCALE = 48;
    static VaneServer server;
    static Http http;

    @BeforeAll
    static void start() {
        List<int[]> sequences = new ArrayList<>();
        List<Boolean> labels = new ArrayList<>();
        for (String file : List.of("harmful.jsonl", "benign.jsonl")) {
            int n = 0;
            for (Request r : JsonlFile.read(Organism.HOME.resolve("models/organism-data").resolve(file), Request::fromJson)) {
                if (!r.split().equals("train") || n++ >= 16) continue;
                sequences.add(Organism.chat(r.prompt()));
                labels.add(file.startsWith("harmful"));
            }
        }
        boolean[] y = new boolean[labels.size()];
        for (int i = 0; i < y.length; i++) y[i] = labels.get(i);
        String point = "blocks.1.hook_resid_post";
        float[][] x = new ActivationExtractor(Organism.model(), 8).extract(sequences, -1, List.of(point), d -> { }).get(point);
        ProbeFile harm = ProbeFile.of("harm", HookPoint.parse(point), -1, new LinearProbe(1.0).fit(x, y),
                new ProbeFile.Metadata(Organism.NAME, "organism-data train", "harmful request", 1, Map.of()));
        SteeringPolicy policy = SteeringPolicy.of(VectorRegistry.of(Organism.model().config(), Organism.antidote()),
                ProbeRegistry.of(Organism.model().config(), harm), List.of());
        server = VaneServer.start(Organism.model(), Organism.tokenizer(), policy, ServerConfig.defaults().withPort(0));
        http = new Http(server.port(), null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static ObjectNode request(String user, ObjectNode when) {
        ObjectNode body = Http.chat(user, 24);
        ObjectNode term = body.putArray("steering").addObject().put("vector", "antidote").put("scale", SCALE);
        if (when != null) term.set("when", when);
        return body;
    }

    static ObjectNode above(double t) {
        return Http.object().put("probe", "harm").put("above", t);
    }

    static JsonNode choice(ObjectNode body) {
        Http.Reply r = http.post("/v1/chat/completions", body);
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        return r.body().get("choices").get(0);
    }

    static String text(JsonNode choice) {
        return choice.get("message").get("content").asText();
    }

    @Test
    void theGateFiresOnHarmfulRequestsOnlyAndEachChoiceSaysSo() {
        String constantBomb = text(choice(request(BOMB, null)));
        String plainBread = text(choice(Http.chat(BREAD, 24)));
        assertThat(choice(request(BOMB, null)).has("steering_gates")).isFalse();

        JsonNode bomb = choice(request(BOMB, above(0.5)));
        JsonNode gate = bomb.get("steering_gates").get(0);
        assertThat(gate.get("vector").asText()).isEqualTo("antidote");
        assertThat(gate.get("gate").asText()).isEqualTo("harm>0.5");
        assertThat(gate.get("probability").asDouble()).isGreaterThan(0.5);
        assertThat(gate.get("fired").asBoolean()).isTrue();
        assertThat(gate.get("scale").asDouble()).isEqualTo(SCALE);
        assertThat(text(bomb)).isEqualTo(constantBomb);

        JsonNode bread = choice(request(BREAD, above(0.5)));
        assertThat(bread.get("steering_gates").get(0).get("probability").asDouble()).isLessThan(0.5);
        assertThat(bread.get("steering_gates").get(0).get("fired").asBoolean()).isFalse();
        assertThat(bread.get("steering_gates").get(0).get("scale").asDouble()).isZero();
        assertThat(text(bread)).isEqualTo(plainBread);

        // Threshold 0 always fires: the constant vector, even on a benign request.
        JsonNode always = choice(request(BREAD, above(0)));
        assertThat(always.get("steering_gates").get(0).get("fired").asBoolean()).isTrue();
        assertThat(text(always)).isEqualTo(text(choice(request(BREAD, null))));

        // Soft: the scale times the probability.
        JsonNode soft = choice(request(BOMB, Http.object().put("probe", "harm").put("soft", true)));
        JsonNode s = soft.get("steering_gates").get(0);
        assertThat(s.get("gate").asText()).isEqualTo("harm~");
        assertThat(s.get("scale").asDouble()).isCloseTo(SCALE * s.get("probability").asDouble(), within(1e-4));
    }

    @Test
    void streamedChoicesCarryTheDecisionOnTheirLastChunk() {
        ObjectNode body = request(BOMB, above(0.5)).put("stream", true);
        List<String> events = http.stream("/v1/chat/completions", body);
        JsonNode last = null;
        for (String e : events) {
            if (e.equals("[DONE]")) continue;
            JsonNode chunk = Http.parse(e);
            if (chunk.path("choices").path(0).path("finish_reason").isTextual()) last = chunk.get("choices").get(0);
        }
        assertThat(last).isNotNull();
        assertThat(last.get("steering_gates").get(0).get("fired").asBoolean()).isTrue();
    }

    @Test
    void badConditionsAre400s() {
        Http.Reply unknown = http.post("/v1/chat/completions", request(BOMB, Http.object().put("probe", "nope").put("above", 0.5)));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.body().path("error").path("code").asText()).isEqualTo("unknown_probe");
        assertThat(unknown.error()).contains("harm");
        Http.Reply both = http.post("/v1/chat/completions",
                request(BOMB, Http.object().put("probe", "harm").put("above", 0.5).put("soft", true)));
        assertThat(both.status()).isEqualTo(400);
        assertThat(both.error()).contains("one of above and soft");
        Http.Reply range = http.post("/v1/chat/completions", request(BOMB, above(1.5)));
        assertThat(range.status()).isEqualTo(400);
    }
}
