package dev.vane.core.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tokenization and chat templates of the seven fixture checkpoints against what transformers 5.17 computed
 * (reference.json's "tokenization" and "chat_templates"), compared exactly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HuggingFaceFixturesTest {
    static final Path HF = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)")).resolve("hf");

    private final Map<String, Tokenizer> tokenizers = new HashMap<>();

    @BeforeAll
    void load() {
        for (String family : List.of("llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3")) {
            tokenizers.put(family, Tokenizer.load(HF.resolve(family)));
        }
    }

    @AfterAll
    void close() {
        tokenizers.values().forEach(Tokenizer::close);
    }

    private static JsonNode reference(String family) throws IOException {
        return new ObjectMapper().readTree(HF.resolve(family).resolve("reference.json").toFile());
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) values[i] = array.get(i).asInt();
        return values;
    }

    private static String[] strings(JsonNode array) {
        String[] values = new String[array.size()];
        for (int i = 0; i < values.length; i++) values[i] = array.get(i).asText();
        return values;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void tokenizationMatchesTransformers(String family) throws IOException {
        Tokenizer tokenizer = tokenizers.get(family);
        JsonNode cases = reference(family).get("tokenization");
        assertThat(cases.size()).isGreaterThan(10);
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            String where = family + " " + c.get("text");
            int[] ids = ints(c.get("ids"));
            assertThat(tokenizer.encode(text)).as("ids of " + where).containsExactly(ids);
            assertThat(tokenizer.encode(text, true)).as("ids_with_special of " + where)
                    .containsExactly(ints(c.get("ids_with_special")));
            assertThat(tokenizer.decode(ids)).as("decoded of " + where).isEqualTo(c.get("decoded").asText());
            assertThat(tokenizer.tokens(text)).as("tokens of " + where).containsExactly(strings(c.get("tokens")));
            for (int i = 0; i < ids.length; i++) {
                assertThat(tokenizer.tokenString(ids[i])).as("token string of id " + ids[i]).isEqualTo(tokenizer.tokens(text)[i]);
                assertThat(tokenizer.tokenId(tokenizer.tokenString(ids[i]))).as("id of token " + ids[i]).hasValue(ids[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void chatTemplatesMatchTransformers(String family) throws IOException {
        Tokenizer tokenizer = tokenizers.get(family);
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
        JsonNode cases = reference(family).get("chat_templates");
        assertThat(cases.size()).isGreaterThanOrEqualTo(2);
        for (JsonNode c : cases) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : c.get("messages")) messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            boolean generationPrompt = c.get("add_generation_prompt").asBoolean();
            if (c.has("error")) {
                assertThatThrownBy(() -> template.render(messages, generationPrompt))
                        .as(family + " " + c.get("messages"))
                        .isInstanceOf(InvalidInputException.class)
                        .hasMessage("chat template raised: " + c.get("error").asText());
                continue;
            }
            String text = template.render(messages, generationPrompt);
            assertThat(text).as(family + " " + c.get("messages")).isEqualTo(c.get("text").asText());
            // transformers' apply_chat_template(tokenize=True) encodes the rendered text without adding special
            // tokens: the template already wrote BOS where the model wants one.
            assertThat(tokenizer.encode(text, false)).as("ids of " + family + " " + c.get("messages"))
                    .containsExactly(ints(c.get("ids")));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void specialTokensAndVocabularyMatchTheCheckpoint(String family) throws IOException {
        Tokenizer tokenizer = tokenizers.get(family);
        JsonNode config = new ObjectMapper().readTree(HF.resolve(family).resolve("config.json").toFile());
        assertThat(tokenizer.vocabSize()).isEqualTo(config.get("vocab_size").asInt());
        if (config.hasNonNull("bos_token_id") && tokenizer.bosToken().isPresent()) {
            assertThat(tokenizer.bosId()).hasValue(config.get("bos_token_id").asInt());
        }
        if (config.hasNonNull("eos_token_id") && config.get("eos_token_id").isInt()) {
            assertThat(tokenizer.eosId()).hasValue(config.get("eos_token_id").asInt());
        }
        tokenizer.bosToken().ifPresent(bos -> assertThat(tokenizer.tokenString(tokenizer.bosId().orElseThrow())).isEqualTo(bos));
    }
}
