package dev.vane.core.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A checkpoint's tokenizer: Hugging Face's tokenizers library (the Rust code transformers uses, through DJL), so
 * ids, token strings and decoded text are those of transformers' fast tokenizer by construction. Also carries
 * the special tokens and the chat template of tokenizer_config.json.
 *
 * <p>Nothing is downloaded: the native library is the one bundled in DJL's jar (extracted once to DJL's cache
 * directory, {@code ~/.djl.ai/tokenizers} unless {@code DJL_CACHE_DIR} says otherwise) and the files are read from
 * {@code modelDir}.
 *
 * <pre>{@code
 * try (Tokenizer tokenizer = Tokenizer.load(Path.of("models/organism-chat"))) {
 *     String prompt = tokenizer.chatTemplate().orElseThrow()
 *             .render(List.of(ChatMessage.user("How do I bake bread?")), true);
 *     int[] ids = tokenizer.encode(prompt);     // no special tokens added: the template wrote <|begin_of_text|>
 *     String same = tokenizer.decode(ids);      // equals prompt
 * }
 * }</pre>
 */
public final class Tokenizer implements AutoCloseable {
    static final String FILE = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final Vocabulary vocabulary;
    private final TokenizerConfig config;
    /** The special tokens the tokenizer class adds in place of tokenizer.json's post-processor, if it does. */
    private final Optional<TokenizerConfig.AddedTokens> addedByClass;
    private Optional<ChatTemplate> chatTemplate;

    private Tokenizer(HuggingFaceTokenizer tokenizer, Vocabulary vocabulary, TokenizerConfig config,
                      Optional<TokenizerConfig.AddedTokens> addedByClass) {
        this.tokenizer = tokenizer;
        this.vocabulary = vocabulary;
        this.config = config;
        this.addedByClass = addedByClass;
    }

    /**
     * Loads {@code modelDir/tokenizer.json} and, where present, tokenizer_config.json, special_tokens_map.json
     * and chat_template.jinja.
     *
     * @throws InvalidInputException if the directory has no tokenizer.json or a file is malformed
     */
    public static Tokenizer load(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(modelDir, Files.isDirectory(modelDir)
                    ? "no " + FILE + " (Vane reads the Hugging Face fast-tokenizer file; a checkpoint with only a "
                      + "SentencePiece tokenizer.model must be converted with transformers first)"
                    : "no such directory (looking for " + FILE + ")");
        }
        byte[] bytes;
        JsonNode root;
        try {
            bytes = Files.readAllBytes(file);
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(file, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isObject()) throw new InvalidInputException(file, "not a JSON object");
        Vocabulary vocabulary = Vocabulary.read(file, root);
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        // transformers rebuilds a post-processor from add_bos_token/add_eos_token for Llama-like classes
        // (DeepSeek-V3's ByteLevel one adds no BOS; the class does). A tokenizer.json without a post-processor was
        // left alone by transformers 5.17 when the fixtures were made (no BOS for the llama2, mistral, gemma ones).
        Optional<TokenizerConfig.AddedTokens> addedByClass = root.hasNonNull("post_processor")
                ? config.addedTokens() : Optional.empty();
        return new Tokenizer(DjlTokenizers.open(file, bytes), vocabulary, config, addedByClass);
    }

    /**
     * The ids of {@code text} without special tokens, as transformers' {@code tokenizer.encode(text,
     * add_special_tokens=False)}. Special tokens written in the text (such as {@code <|eot_id|>} in a rendered chat
     * template) are still recognised as single tokens.
     */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * The ids of {@code text}, as transformers' {@code tokenizer(text, add_special_tokens=...)}: with
     * {@code true}, what tokenizer.json's post-processor adds (BOS for Llama 3, nothing for Qwen), except for the
     * tokenizer classes that rebuild the post-processor from tokenizer_config.json's {@code add_bos_token} and
     * {@code add_eos_token} ({@code LlamaTokenizerFast}, {@code GemmaTokenizerFast}, ...): DeepSeek-V3's
     * post-processor adds no BOS, its class does.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        Optional<TokenizerConfig.AddedTokens> byClass = addSpecialTokens ? addedByClass : Optional.empty();
        long[] ids = encoding(text, addSpecialTokens && byClass.isEmpty()).getIds();
        int[] result = new int[ids.length];
        for (int i = 0; i < ids.length; i++) result[i] = Math.toIntExact(ids[i]);
        if (byClass.isEmpty()) return result;
        OptionalInt bos = byClass.get().bos() ? bosId() : OptionalInt.empty();
        OptionalInt eos = byClass.get().eos() ? eosId() : OptionalInt.empty();
        int[] framed = new int[result.length + (bos.isPresent() ? 1 : 0) + (eos.isPresent() ? 1 : 0)];
        if (bos.isPresent()) framed[0] = bos.getAsInt();
        System.arraycopy(result, 0, framed, bos.isPresent() ? 1 : 0, result.length);
        if (eos.isPresent()) framed[framed.length - 1] = eos.getAsInt();
        return framed;
    }

    /** The token strings of {@code text} without special tokens, as transformers' {@code tokenizer.tokenize(text)}. */
    public String[] tokens(String text) {
        Objects.requireNonNull(text, "text");
        return encoding(text, false).getTokens();
    }

    private Encoding encoding(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false);
    }

    /** The text of {@code ids}, special tokens included, as transformers' {@code tokenizer.decode(ids)}. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of {@code ids}, as transformers' {@code tokenizer.decode(ids, skip_special_tokens=...)}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longIds = new long[ids.length];
        for (int i = 0; i < ids.length; i++) longIds[i] = ids[i];
        String text = tokenizer.decode(longIds, skipSpecialTokens);
        return config.cleanUpTokenizationSpaces() ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code clean_up_tokenization}, applied when tokenizer_config.json asks for it. */
    private static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /**
     * The token string of one id, as transformers' {@code convert_ids_to_tokens(id)} ({@code "Ġw"},
     * {@code "<0x09>"}, {@code "<|eot_id|>"}).
     *
     * @throws InvalidInputException if no token has this id
     */
    public String tokenString(int id) {
        return vocabulary.token(id);
    }

    /** The id of a token string, looked up exactly in the vocabulary and the added tokens (no tokenisation). */
    public OptionalInt tokenId(String token) {
        return vocabulary.id(token);
    }

    /** bos_token of tokenizer_config.json (or special_tokens_map.json). */
    public Optional<String> bosToken() {
        return Optional.ofNullable(config.specialTokens().get("bos_token"));
    }

    /** eos_token of tokenizer_config.json (or special_tokens_map.json); generation config may list more. */
    public Optional<String> eosToken() {
        return Optional.ofNullable(config.specialTokens().get("eos_token"));
    }

    /** pad_token of tokenizer_config.json (or special_tokens_map.json). */
    public Optional<String> padToken() {
        return Optional.ofNullable(config.specialTokens().get("pad_token"));
    }

    /** The id of {@link #bosToken()}, if it is set and in the vocabulary. */
    public OptionalInt bosId() {
        return idOf(bosToken());
    }

    /** The id of {@link #eosToken()}, if it is set and in the vocabulary. */
    public OptionalInt eosId() {
        return idOf(eosToken());
    }

    /** The id of {@link #padToken()}, if it is set and in the vocabulary. */
    public OptionalInt padId() {
        return idOf(padToken());
    }

    private OptionalInt idOf(Optional<String> token) {
        return token.isPresent() ? vocabulary.id(token.get()) : OptionalInt.empty();
    }

    /**
     * Number of distinct tokens, added tokens included: transformers' {@code len(tokenizer)}. The model's
     * embedding may have more rows (padding for alignment).
     */
    public int vocabSize() {
        return vocabulary.size();
    }

    /**
     * The checkpoint's chat template: chat_template.jinja if present, else tokenizer_config.json's
     * {@code chat_template} (a string, or the entry named "default" of a list of named templates).
     *
     * @throws InvalidInputException if the config lists named templates but none called "default"
     */
    public synchronized Optional<ChatTemplate> chatTemplate() {
        // Built on first use: most callers of a tokenizer never render a chat.
        if (chatTemplate == null) chatTemplate = config.chatTemplate();
        return chatTemplate;
    }

    /** Frees the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
