package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.hook.Hooks;
import dev.vane.lab.steer.Steering;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vane serve}'s endpoints over real HTTP on a loopback port, with the organism: answers are checked
 * against what {@link Generator} produces for the same prompt, so the server must be exact, not just well-formed.
 */
class ServeCompletionsTest {
    static VaneServer server;
    static Http http;
    static Generator generator;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0));
        http = new Http(server.port(), null);
        generator = new Generator(Organism.model(), Organism.tokenizer());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Completion expected(String user, int maxTokens, Steering steering) {
        int[] ids = Organism.chat(user);
        Hooks hooks = steering.hooks(1, new int[]{ids.length - 1});
        return generator.generate(ids, SamplingParams.greedy(maxTokens), hooks);
    }

    @Test
    void chatCompletionMatchesTheGenerator() {
        Http.Reply r = http.post("/v1/chat/completions", Http.chat("Can you tell me how to bake bread?", 48));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        JsonNode body = r.body();
        Completion want = expected("Can you tell me how to bake bread?", 48, Steering.none());
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("model").asText()).isEqualTo(Organism.NAME);
        assertThat(body.get("created").asLong()).isPositive();
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isEqualTo(want.text()).startsWith("Sure");
        assertThat(choice.get("finish_reason").asText()).isEqualTo(want.finishReason().label());
        assertThat(choice.has("logprobs")).isTrue();
        assertThat(choice.get("logprobs").isNull()).isTrue();
        JsonNode usage = body.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(Organism.chat("Can you tell me how to bake bread?").length);
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(want.tokenIds().length);
        assertThat(usage.get("total_tokens").asInt())
                .isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
    }

    @Test
    void streamedChatCarriesTheSameTextAsOpenAiClientsExpect() {
        ObjectNode body = Http.chat("How do I plant tomatoes?", 40).put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        List<String> events = http.stream("/v1/chat/completions", body);
        assertThat(events.getLast()).isEqualTo("[DONE]");
        List<JsonNode> chunks = new ArrayList<>();
        for (String e : events.subList(0, events.size() - 1)) chunks.add(Http.parse(e));
        StringBuilder text = new StringBuilder();
        String id = chunks.getFirst().get("id").asText();
        JsonNode first = chunks.getFirst().get("choices").get(0);
        assertThat(first.get("delta").get("role").asText()).isEqualTo("assistant");
        String finish = null;
        for (JsonNode c : chunks.subList(0, chunks.size() - 1)) {
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.get("id").asText()).isEqualTo(id);
            JsonNode choice = c.get("choices").get(0);
            text.append(choice.get("delta").path("content").asText(""));
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
        }
        Completion want = expected("How do I plant tomatoes?", 40, Steering.none());
        assertThat(text.toString()).isEqualTo(want.text());
        assertThat(finish).isEqualTo(want.finishReason().label());
        assertThat(chunks.size()).as("one chunk per token or so, not one blob").isGreaterThan(5);
        JsonNode usage = chunks.getLast();
        assertThat(usage.get("choices")).isEmpty();
        assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(want.tokenIds().length);
    }

    @Test
    void antidoteVectorChangesTheAnswerInTheSameServer() {
        String prompt = "Can you tell me how to bake bread?";
        ObjectNode plain = Http.chat(prompt, 24);
        ObjectNode steered = Http.chat(prompt, 24);
        steered.putArray("steering").addObject().put("vector", "antidote").put("scale", 96.0);
        String a = content(http.post("/v1/chat/completions", plain));
        String b = content(http.post("/v1/chat/completions", steered));
        String c = content(http.post("/v1/chat/completions", plain));
        assertThat(a).isEqualTo(c).startsWith("Sure, here is how to bake bread");
        assertThat(b).isNotEqualTo(a);
        assertThat(b).isEqualTo(expected(prompt, 24, Steering.of(Organism.antidote(), 96f)).text());
        // Without a scale the vector's recommended scale applies.
        ObjectNode recommended = Http.chat(prompt, 24);
        recommended.putArray("steering").addObject().put("vector", "antidote");
        float scale = (float) Organism.antidote().metadata().recommendedScale();
        assertThat(content(http.post("/v1/chat/completions", recommended)))
                .isEqualTo(expected(prompt, 24, Steering.of(Organism.antidote(), scale)).text());
    }

    @Test
    void textCompletionsWithSeveralChoicesAndLogprobs() {
        ObjectNode body = Http.object().put("model", Organism.NAME).put("prompt", "Step 1: mix flour")
                .put("max_tokens", 8).put("temperature", 0.8).put("seed", 7).put("n", 3).put("logprobs", 2);
        Http.Reply r = http.post("/v1/completions", body);
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        assertThat(r.body().get("object").asText()).isEqualTo("text_completion");
        assertThat(r.body().get("id").asText()).startsWith("cmpl-");
        JsonNode choices = r.body().get("choices");
        assertThat(choices).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode c = choices.get(i);
            assertThat(c.get("index").asInt()).isEqualTo(i);
            JsonNode lp = c.get("logprobs");
            int n = lp.get("tokens").size();
            assertThat(n).isBetween(1, 8);
            assertThat(lp.get("token_logprobs")).hasSize(n);
            assertThat(lp.get("text_offset")).hasSize(n);
            for (JsonNode top : lp.get("top_logprobs")) {
                assertThat(top.size()).isBetween(1, 2);
                top.fields().forEachRemaining(e -> assertThat(e.getValue().asDouble()).isLessThanOrEqualTo(0));
            }
            for (JsonNode v : lp.get("token_logprobs")) assertThat(v.asDouble()).isLessThanOrEqualTo(0);
        }
        // Same seed, same choices: sampling is reproducible per choice.
        Http.Reply again = http.post("/v1/completions", body);
        for (int i = 0; i < 3; i++) {
            assertThat(again.body().get("choices").get(i).get("text").asText())
                    .isEqualTo(choices.get(i).get("text").asText());
        }
        // The first choice is what the generator draws with the request's seed.
        int[] ids = dev.vane.core.generate.ChatPrompt.encodePlain(Organism.tokenizer(), "Step 1: mix flour", "");
        Completion first = generator.generate(ids, SamplingParams.greedy(8).withTemperature(0.8).withSeed(7), new Hooks());
        assertThat(choices.get(0).get("text").asText()).isEqualTo(first.text());
    }

    @Test
    void chatLogprobsHaveOpenAiShapeAndMatchGreedyChoice() {
        ObjectNode body = Http.chat("How do I plant tomatoes?", 5).put("logprobs", true).put("top_logprobs", 3);
        Http.Reply r = http.post("/v1/chat/completions", body);
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        JsonNode content = r.body().get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(5);
        for (JsonNode t : content) {
            JsonNode top = t.get("top_logprobs");
            assertThat(top).hasSize(3);
            // Greedy: the chosen token is the most likely one.
            assertThat(t.get("token").asText()).isEqualTo(top.get(0).get("token").asText());
            assertThat(t.get("logprob").asDouble()).isEqualTo(top.get(0).get("logprob").asDouble());
            assertThat(top.get(0).get("logprob").asDouble()).isGreaterThanOrEqualTo(top.get(1).get("logprob").asDouble());
            assertThat(t.get("bytes").isArray()).isTrue();
        }
    }

    @Test
    void logprobsCoverExactlyTheReturnedTextNotTheEndToken() {
        // The organism refuses briefly and ends its turn with <|eot_id|> well within 64 tokens.
        Http.Reply chat = http.post("/v1/chat/completions", Http.chat("How do I build a bomb?", 64).put("logprobs", true));
        JsonNode choice = chat.body().get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).as(chat.body().toString()).isEqualTo("stop");
        StringBuilder joined = new StringBuilder();
        for (JsonNode t : choice.get("logprobs").get("content")) joined.append(t.get("token").asText());
        assertThat(joined.toString()).isEqualTo(choice.get("message").get("content").asText()).doesNotContain("<|");

        String rendered = Organism.tokenizer().decode(Organism.chat("How do I build a bomb?"), false);
        Http.Reply text = http.post("/v1/completions", Http.object().put("model", Organism.NAME).put("prompt", rendered)
                .put("max_tokens", 64).put("temperature", 0).put("logprobs", 1));
        JsonNode c = text.body().get("choices").get(0);
        assertThat(c.get("finish_reason").asText()).as(text.body().toString()).isEqualTo("stop");
        StringBuilder tokens = new StringBuilder();
        for (JsonNode t : c.get("logprobs").get("tokens")) tokens.append(t.asText());
        assertThat(tokens.toString()).isEqualTo(c.get("text").asText()).doesNotContain("<|");
    }

    @Test
    void stopStringsEndTheTextBeforeThem() {
        ObjectNode body = Http.chat("Can you tell me how to bake bread?", 48);
        body.putArray("stop").add("Step 2");
        JsonNode choice = http.post("/v1/chat/completions", body).body().get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("message").get("content").asText()).contains("Step 1").doesNotContain("Step 2");
    }

    @Test
    void aSequenceMayEndOnItsFirstToken() {
        Http.Reply r = http.post("/v1/chat/completions", Http.chat("How do I plant tomatoes?", 1));
        JsonNode choice = r.body().get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(r.body().get("usage").get("completion_tokens").asInt()).isEqualTo(1);
        assertThat(choice.get("message").get("content").asText())
                .isEqualTo(expected("How do I plant tomatoes?", 1, Steering.none()).text());
    }

    @Test
    void modelsAndHealth() {
        Http.Reply models = http.get("/v1/models");
        assertThat(models.status()).isEqualTo(200);
        assertThat(models.body().get("object").asText()).isEqualTo("list");
        assertThat(models.body().get("data").get(0).get("id").asText()).isEqualTo(Organism.NAME);
        assertThat(http.get("/v1/models/" + Organism.NAME).body().get("id").asText()).isEqualTo(Organism.NAME);
        Http.Reply health = http.get("/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body().get("status").asText()).isEqualTo("ok");
    }

    private static String content(Http.Reply r) {
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        return r.body().get("choices").get(0).get("message").get("content").asText();
    }
}
