package dev.vane.core.tokenize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What Vane uses from a checkpoint's tokenizer_config.json: the special tokens, whether decoding cleans up
 * spaces, and the chat template. Read the way transformers reads it: tokens missing there are taken from
 * special_tokens_map.json, and a chat_template.jinja file (how transformers 4.43+ saves templates) replaces the
 * template in the config.
 *
 * <pre>{@code
 * TokenizerConfig config = TokenizerConfig.read(modelDir);
 * config.specialTokens().get("eos_token");   // "<|eot_id|>"
 * }</pre>
 */
final class TokenizerConfig {
    static final String FILE = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";
    static final String TEMPLATE_FILE = "chat_template.jinja";

    /** The special tokens a chat template sees as variables, in transformers' names. */
    static final List<String> TOKEN_NAMES = List.of("bos_token", "eos_token", "unk_token", "pad_token");

    /**
     * transformers' tokenizer classes whose constructor rebuilds tokenizer.json's post-processor from
     * {@code add_bos_token} and {@code add_eos_token} (defaults true and false), whatever the file says.
     */
    private static final java.util.Set<String> CLASSES_THAT_ADD_BOS = java.util.Set.of("LlamaTokenizer",
            "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Which special tokens encoding a text with special tokens adds, when the tokenizer class decides it. */
    record AddedTokens(boolean bos, boolean eos) {
    }

    private final Map<String, String> specialTokens;
    private AddedTokens addedTokens;
    private final boolean cleanUpTokenizationSpaces;
    private final String chatTemplate;
    private final String chatTemplateOrigin;
    private final String chatTemplateProblem;

    private TokenizerConfig(Map<String, String> specialTokens, boolean cleanUpTokenizationSpaces,
                            String chatTemplate, String chatTemplateOrigin, String chatTemplateProblem) {
        this.specialTokens = specialTokens;
        this.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
        this.chatTemplate = chatTemplate;
        this.chatTemplateOrigin = chatTemplateOrigin;
        this.chatTemplateProblem = chatTemplateProblem;
    }

    /**
     * Reads the files in {@code modelDir}; each is optional (a tokenizer.json alone is a usable tokenizer).
     *
     * @throws InvalidInputException naming the file if one is present but malformed
     */
    static TokenizerConfig read(Path modelDir) {
        Path configFile = modelDir.resolve(FILE);
        JsonNode config = readObject(configFile);
        JsonNode specialMap = readObject(modelDir.resolve(SPECIAL_TOKENS_FILE));

        Map<String, String> tokens = new LinkedHashMap<>();
        for (String name : TOKEN_NAMES) {
            String token = token(configFile, config, name);
            if (token == null) token = token(modelDir.resolve(SPECIAL_TOKENS_FILE), specialMap, name);
            if (token != null) tokens.put(name, token);
        }

        AddedTokens added = null;
        if (CLASSES_THAT_ADD_BOS.contains(config.path("tokenizer_class").asText())) {
            added = new AddedTokens(flag(configFile, config, "add_bos_token", true), flag(configFile, config, "add_eos_token", false));
        }

        JsonNode cleanUp = config.path("clean_up_tokenization_spaces");
        if (!cleanUp.isMissingNode() && !cleanUp.isNull() && !cleanUp.isBoolean()) {
            throw new InvalidInputException(configFile, "clean_up_tokenization_spaces is not true or false");
        }

        Path templateFile = modelDir.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(templateFile)) {
            try {
                return new TokenizerConfig(Map.copyOf(tokens), cleanUp.asBoolean(false),
                        Files.readString(templateFile, StandardCharsets.UTF_8), templateFile.toString(), null)
                        .withAddedTokens(added);
            } catch (IOException e) {
                throw new InvalidInputException(templateFile + ": cannot read it as UTF-8 text: " + e.getMessage(), e);
            }
        }
        JsonNode template = config.path("chat_template");
        String origin = configFile + " (chat_template)";
        String source = null;
        String problem = null;
        if (template.isTextual()) {
            source = template.asText();
        } else if (template.isArray()) {
            // transformers saves several named templates as [{"name": ..., "template": ...}] and uses "default"
            // when the caller names none.
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < template.size(); i++) {
                JsonNode entry = template.get(i);
                if (!entry.path("name").isTextual() || !entry.path("template").isTextual()) {
                    throw new InvalidInputException(configFile,
                            "chat_template[" + i + "] is not an object with string \"name\" and \"template\"");
                }
                names.add(entry.get("name").asText());
                if (entry.get("name").asText().equals("default")) {
                    source = entry.get("template").asText();
                    origin = configFile + " (chat_template \"default\")";
                }
            }
            if (source == null) {
                problem = configFile + ": chat_template lists templates " + names + " but none is named \"default\"";
            }
        } else if (!template.isMissingNode() && !template.isNull()) {
            throw new InvalidInputException(configFile, "chat_template is neither a string nor a list of {name, template}");
        }
        return new TokenizerConfig(Map.copyOf(tokens), cleanUp.asBoolean(false), source, origin, problem)
                .withAddedTokens(added);
    }

    private TokenizerConfig withAddedTokens(AddedTokens added) {
        this.addedTokens = added;
        return this;
    }

    private static boolean flag(Path file, JsonNode config, String name, boolean absent) {
        JsonNode value = config.path(name);
        if (value.isMissingNode() || value.isNull()) return absent;
        if (!value.isBoolean()) throw new InvalidInputException(file, name + " is not true or false");
        return value.asBoolean();
    }

    /**
     * The special tokens that encoding with special tokens adds when the tokenizer class decides it rather than
     * tokenizer.json's post-processor: a {@code LlamaTokenizerFast} with {@code add_bos_token: true} adds BOS
     * even where the post-processor adds none (DeepSeek-V3). Empty for other classes.
     */
    Optional<AddedTokens> addedTokens() {
        return Optional.ofNullable(addedTokens);
    }

    /** The file's root object; an empty object if the file does not exist. */
    private static JsonNode readObject(Path file) {
        if (!Files.exists(file)) return JSON.createObjectNode();
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(file, "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(file, "not a JSON object");
        }
        return root;
    }

    /** A special token, written either as a string or as a serialised AddedToken {@code {"content": ...}}. */
    private static String token(Path file, JsonNode root, String name) {
        JsonNode value = root.path(name);
        if (value.isMissingNode() || value.isNull()) return null;
        if (value.isTextual()) return value.asText();
        if (value.isObject() && value.path("content").isTextual()) return value.get("content").asText();
        throw new InvalidInputException(file, name + " is neither a string nor an object with a string \"content\"");
    }

    /** bos_token, eos_token, unk_token, pad_token: those that are set. */
    Map<String, String> specialTokens() {
        return specialTokens;
    }

    boolean cleanUpTokenizationSpaces() {
        return cleanUpTokenizationSpaces;
    }

    /**
     * The chat template, if the checkpoint has one.
     *
     * @throws InvalidInputException if it has named templates but none called "default"
     */
    Optional<ChatTemplate> chatTemplate() {
        if (chatTemplateProblem != null) throw new InvalidInputException(chatTemplateProblem);
        if (chatTemplate == null) return Optional.empty();
        return Optional.of(new ChatTemplate(chatTemplate, specialTokens, chatTemplateOrigin));
    }
}
