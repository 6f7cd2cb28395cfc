package dev.vane.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.server.steer.SteeringPolicy;
import dev.vane.server.steer.VectorRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the server refuses, and how: status codes and OpenAI-style error objects, over real HTTP. */
class ServeRefusalsTest {
    static final String KEY = "test-key-123";
    static VaneServer server;
    static Http http;
    static Http anonymous;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0).withApiKey(KEY).withMaxBodyBytes(4096).withMaxTokens(64)
                .withMaxWaiting(4));
        http = new Http(server.port(), KEY);
        anonymous = new Http(server.port(), null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void withAnApiKeyRequestsWithoutTheBearerKeyGet401() {
        Http.Reply none = anonymous.post("/v1/chat/completions", Http.chat("Hi", 4));
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.body().get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(none.raw().headers().firstValue("www-authenticate")).contains("Bearer");
        assertThat(new Http(server.port(), "wrong").post("/v1/chat/completions", Http.chat("Hi", 4)).status()).isEqualTo(401);
        assertThat(anonymous.get("/v1/models").status()).isEqualTo(401);
        assertThat(http.post("/v1/chat/completions", Http.chat("Hi", 4)).status()).isEqualTo(200);
        assertThat(anonymous.get("/health").status()).as("health checks need no key").isEqualTo(200);
    }

    @Test
    void malformedJsonIs400() {
        Http.Reply r = http.post("/v1/chat/completions", "{\"model\": \"organism-chat\", \"messages\": [");
        assertBadRequest(r, null, "could not parse the JSON body");
        assertBadRequest(http.post("/v1/chat/completions", "[1, 2]"), null, "must be a JSON object");
    }

    @Test
    void unknownVectorIs400NamingTheVectorsOnOffer() {
        ObjectNode body = Http.chat("Hi", 4);
        body.putArray("steering").addObject().put("vector", "../../etc/passwd").put("scale", 1);
        Http.Reply r = http.post("/v1/chat/completions", body);
        assertBadRequest(r, "steering", "unknown steering vector \"../../etc/passwd\"");
        assertThat(r.error()).contains("antidote");
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("unknown_vector");
    }

    @Test
    void badParameterValuesAre400NamingTheField() {
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("temperature", 7)),
                "temperature", "between 0 and 2");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("top_p", -1)), "top_p", "top_p");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("n", 0)), "n", "between 1");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("max_tokens", "many")),
                "max_tokens", "integer");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("top_logprobs", 3)),
                "top_logprobs", "needs 'logprobs'");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("frequency_penalty", 0.5)),
                "frequency_penalty", "not supported");
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("best_answer", true)),
                "best_answer", "Unrecognized request argument");
        ObjectNode badRole = Http.chat("Hi", 4);
        badRole.withArray("messages").addObject().put("role", "tool").put("content", "x");
        assertBadRequest(http.post("/v1/chat/completions", badRole), "messages[1].role", "not supported");
        ObjectNode noMessages = Http.object().put("model", Organism.NAME);
        assertBadRequest(http.post("/v1/chat/completions", noMessages), "messages", "required");
        ObjectNode badStop = Http.chat("Hi", 4);
        badStop.putArray("stop").add("a").add("b").add("c").add("d").add("e");
        assertBadRequest(http.post("/v1/chat/completions", badStop), "stop", "at most 4");
        assertBadRequest(http.post("/v1/completions", Http.object().put("model", Organism.NAME).put("prompt", 5)),
                "prompt", "string");
    }

    @Test
    void maxTokensAndBodySizeAreCapped() {
        assertBadRequest(http.post("/v1/chat/completions", Http.chat("Hi", 65)), "max_tokens", "between 1 and 64");
        String big = "x".repeat(5000);
        Http.Reply r = http.post("/v1/chat/completions", Http.chat(big, 4));
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("request_too_large");
    }

    @Test
    void aFullQueueIs429() {
        // Five choices cannot fit a queue of four, whatever else is running.
        Http.Reply r = http.post("/v1/chat/completions", Http.chat("Hi", 4).put("n", 5));
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("server_busy");
        assertThat(http.post("/v1/chat/completions", Http.chat("Hi", 4).put("n", 4)).status()).isEqualTo(200);
    }

    @Test
    void chunkedBodiesAreCappedToo() {
        byte[] big = Http.chat("x".repeat(5000), 4).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Http.Reply r = http.postChunked("/v1/chat/completions", big);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("request_too_large");
    }

    @Test
    void promptsLongerThanTheContextAre400() {
        String words = "bread ".repeat(600);      // about 600 tokens; the organism's context is 512
        ObjectNode body = Http.object().put("model", Organism.NAME).put("prompt", words.substring(0, 3500));
        Http.Reply r = http.post("/v1/completions", body);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("context_length_exceeded");
    }

    @Test
    void unknownModelAndPathAre404() {
        ObjectNode body = Http.chat("Hi", 4).put("model", "gpt-4o");
        Http.Reply r = http.post("/v1/chat/completions", body);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body().get("error").get("code").asText()).isEqualTo("model_not_found");
        Http.Reply path = http.get("/v1/files");
        assertThat(path.status()).isEqualTo(404);
        assertThat(path.error()).contains("/v1/files");
    }

    /**
     * Downloaded chat templates that fail - 5 000 nested loops (once a StackOverflowError and a 500), one that
     * raises - answer a 400 in the OpenAI error shape naming the template's line or its message, at once.
     */
    @Test
    void chatTemplatesThatFailAre400NamingTheProblem(@TempDir Path dir) throws IOException {
        String deep = "\n" + "{% for x in [1] %}".repeat(5_000) + "{% endfor %}".repeat(5_000);
        assertThat(replyWithTemplate(dir.resolve("deep"), deep))
                .contains("cannot render: line 2: the template nests more than 100 levels deep");
        assertThat(replyWithTemplate(dir.resolve("raises"), "{{ raise_exception('no system prompts here') }}"))
                .isEqualTo("chat template raised: no system prompts here");
    }

    /**
     * Messages for clients name what was wrong with the request, never the server's files: the engine's message
     * for a broken template starts with the tokenizer_config.json's full path, which is cut to its file name.
     */
    @Test
    void errorMessagesCarryNoServerPaths(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("secret-model-folder");
        String error = replyWithTemplate(model, "{% if %}");
        assertThat(error).contains("tokenizer_config.json").contains("cannot render")
                .doesNotContain(model.toString()).doesNotContain("secret-model-folder").doesNotContain(dir.toString());
    }

    /** The error message of a chat request to a server whose tokenizer has {@code template}. */
    private static String replyWithTemplate(Path dir, String template) throws IOException {
        Files.createDirectories(dir);
        Files.copy(Organism.DIR.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), Http.object().put("chat_template", template).toString());
        try (Tokenizer tokenizer = Tokenizer.load(dir);
             VaneServer server = VaneServer.start(Organism.model(), tokenizer,
                     SteeringPolicy.of(VectorRegistry.of(Organism.model().config()), List.of()),
                     ServerConfig.defaults().withPort(0).withMaxTokens(4))) {
            long start = System.nanoTime();
            Http.Reply r = new Http(server.port(), null).post("/v1/chat/completions", Http.chat("Hi", 2));
            assertThat((System.nanoTime() - start) / 1e9).isLessThan(5);
            assertBadRequest(r, "messages", "");
            return r.error();
        }
    }

    @Test
    void bindsToLoopbackByDefault() {
        assertThat(ServerConfig.defaults().host()).isEqualTo("127.0.0.1");
    }

    private static void assertBadRequest(Http.Reply r, String param, String message) {
        assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
        var error = r.body().get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("message").asText()).contains(message);
        if (param == null) assertThat(error.get("param").isNull()).isTrue();
        else assertThat(error.get("param").asText()).isEqualTo(param);
        assertThat(error.has("code")).isTrue();
    }
}
