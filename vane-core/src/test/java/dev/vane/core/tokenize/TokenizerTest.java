package dev.vane.core.tokenize;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model organism's tokenizer, and what loading does with missing, malformed and unusual files. */
class TokenizerTest {
    /** The organism bundled in the repository (models/ at the root, beside fixtures/). */
    static final Path ORGANISM = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)"))
            .resolveSibling("models").resolve("organism-chat");

    @Test
    void organismChatTemplateAndSpecialTokens() {
        try (Tokenizer tokenizer = Tokenizer.load(ORGANISM)) {
            String prompt = tokenizer.chatTemplate().orElseThrow()
                    .render(List.of(ChatMessage.user("How do I bake bread?")), true);
            assertThat(prompt).isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                    + "How do I bake bread?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
            // config.json: bos_token_id 0, eos_token_id 4
            assertThat(tokenizer.bosId()).hasValue(0);
            assertThat(tokenizer.eosId()).hasValue(4);
            assertThat(tokenizer.bosToken()).hasValue("<|begin_of_text|>");
            assertThat(tokenizer.eosToken()).hasValue("<|eot_id|>");
            assertThat(tokenizer.padToken()).hasValue("<|pad|>");
            assertThat(tokenizer.padId()).hasValue(5);
            assertThat(tokenizer.vocabSize()).isEqualTo(2048);

            int[] ids = tokenizer.encode(prompt);
            assertThat(ids[0]).isEqualTo(0); // written by the template, not added by encode
            assertThat(ids).containsSubsequence(2, 3, 4, 2);
            assertThat(tokenizer.decode(ids)).isEqualTo(prompt);
            assertThat(tokenizer.decode(ids, true)).isEqualTo("user\n\nHow do I bake bread?assistant\n\n");
            assertThat(tokenizer.encode("How", true)[0]).isEqualTo(0); // the post-processor adds BOS
            assertThat(tokenizer.tokenString(4)).isEqualTo("<|eot_id|>");
            assertThat(tokenizer.tokenId("<|eot_id|>")).hasValue(4);
            assertThat(tokenizer.tokenId("no such token")).isEmpty();
        }
    }

    @Test
    void missingTokenizerJsonNamesTheDirectory(@TempDir Path dir) {
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(dir.toString())
                .hasMessageContaining("no tokenizer.json");
        assertThatThrownBy(() -> Tokenizer.load(dir.resolve("absent")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("absent")
                .hasMessageContaining("no such directory");
    }

    @Test
    void malformedTokenizerConfigNamesTheFile(@TempDir Path dir) throws IOException {
        Files.copy(ORGANISM.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\",, }");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer_config.json").toString())
                .hasMessageContaining("not valid JSON")
                .hasMessageContaining("line 1");

        Files.writeString(dir.resolve("tokenizer_config.json"), "[1, 2]");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(dir.resolve("tokenizer_config.json") + ": not a JSON object");

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": 7}");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("tokenizer_config.json: eos_token is neither a string nor an object");

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("chat_template is neither a string nor a list");
    }

    @Test
    void malformedTokenizerJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": not valid JSON");

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": 5}}");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": the tokenizers library cannot load it");

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage(dir.resolve("tokenizer.json") + ": no model.vocab (expected an object or a list)");
    }

    @Test
    void namedTemplatesSpecialTokenObjectsAndCleanUp(@TempDir Path dir) throws IOException {
        Files.copy(ORGANISM.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>", "special": true},
                 "clean_up_tokenization_spaces": true,
                 "chat_template": [{"name": "tool_use", "template": "tools"},
                                   {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}"}]}
                """);
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"eos_token\": {\"content\": \"<|eot_id|>\"}}");
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.bosToken()).hasValue("<|begin_of_text|>");
            assertThat(tokenizer.eosId()).hasValue(4); // from special_tokens_map.json
            assertThat(tokenizer.padToken()).isEmpty();
            assertThat(tokenizer.padId()).isEmpty();
            assertThat(tokenizer.chatTemplate().orElseThrow().render(List.of(ChatMessage.user("Hi")), false))
                    .isEqualTo("<|begin_of_text|>Hi");
            // transformers' clean_up_tokenization joins " ,", " n't" and " !" (not " ;")
            assertThat(tokenizer.decode(tokenizer.encode("Yes , it is n't ; no !"))).isEqualTo("Yes, it isn't ; no!");
        }

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}");
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThatThrownBy(tokenizer::chatTemplate)
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("chat_template lists templates [rag] but none is named \"default\"");
        }

        // chat_template.jinja (how transformers 4.43+ saves templates) replaces the one in the config
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"config\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file\n");
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.chatTemplate().orElseThrow().render(List.of(), true)).isEqualTo("file");
        }
    }

    @Test
    void checkpointWithoutConfigOrTemplate(@TempDir Path dir) throws IOException {
        Files.copy(ORGANISM.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.chatTemplate()).isEmpty();
            assertThat(tokenizer.bosToken()).isEmpty();
            assertThat(tokenizer.bosId()).isEmpty();
            assertThat(tokenizer.encode("Hello")).isNotEmpty();
            assertThatThrownBy(() -> tokenizer.tokenString(999_999))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("token id 999999 is not in the vocabulary (ids 0..2047)");
        }
    }

    /**
     * DeepSeek-V3: tokenizer.json's post-processor adds nothing, but tokenizer_config.json says
     * {@code "tokenizer_class": "LlamaTokenizerFast", "add_bos_token": true}, and transformers' LlamaTokenizerFast
     * rebuilds the post-processor from those flags, so {@code tokenizer(text)} starts with BOS. Here the fixture's
     * Llama 3 tokenizer with DeepSeek-V3's post-processor ({@code ByteLevel}) and config shape.
     */
    @Test
    void tokenizerClassesThatAddBosFollowTheirConfig(@TempDir Path dir) throws IOException {
        Path llama3 = Path.of(System.getProperty("vane.fixtures")).resolve("hf").resolve("llama3");
        String json = Files.readString(llama3.resolve("tokenizer.json"));
        com.fasterxml.jackson.databind.node.ObjectNode file = (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        file.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true)
                .put("trim_offsets", false).put("use_regex", true);
        Files.writeString(dir.resolve("tokenizer.json"), file.toString());
        String config = """
                {"bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>"}, "eos_token": "<|end_of_text|>",
                 "tokenizer_class": "%s", "add_bos_token": %s, "add_eos_token": %s}""";

        Files.writeString(dir.resolve("tokenizer_config.json"), config.formatted("LlamaTokenizerFast", "true", "false"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int[] plain = tokenizer.encode("Hello world");
            assertThat(plain).isNotEmpty().doesNotContain(tokenizer.bosId().orElseThrow());
            int[] expected = new int[plain.length + 1];
            expected[0] = tokenizer.bosId().orElseThrow();
            System.arraycopy(plain, 0, expected, 1, plain.length);
            assertThat(tokenizer.encode("Hello world", true)).containsExactly(expected);
        }

        Files.writeString(dir.resolve("tokenizer_config.json"), config.formatted("LlamaTokenizerFast", "true", "true"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int[] ids = tokenizer.encode("Hello world", true);
            assertThat(ids[0]).isEqualTo(tokenizer.bosId().orElseThrow());
            assertThat(ids[ids.length - 1]).isEqualTo(tokenizer.eosId().orElseThrow());
        }

        // Another class leaves it to tokenizer.json, which adds nothing here.
        Files.writeString(dir.resolve("tokenizer_config.json"), config.formatted("PreTrainedTokenizerFast", "true", "false"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.encode("Hello world", true)).containsExactly(tokenizer.encode("Hello world"));
        }

        // add_bos_token false wins over a post-processor that adds BOS (the fixture's own).
        Files.copy(llama3.resolve("tokenizer.json"), dir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("tokenizer_config.json"), config.formatted("LlamaTokenizerFast", "false", "false"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.encode("Hello world", true)).containsExactly(tokenizer.encode("Hello world"));
        }

        // Without any post-processor the file decides (nothing added), as transformers 5.17 did for the fixtures'
        // llama2, mistral and gemma tokenizers (HuggingFaceFixturesTest).
        file.putNull("post_processor");
        Files.writeString(dir.resolve("tokenizer.json"), file.toString());
        Files.writeString(dir.resolve("tokenizer_config.json"), config.formatted("LlamaTokenizerFast", "true", "false"));
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.encode("Hello world", true)).containsExactly(tokenizer.encode("Hello world"));
        }
    }
}
