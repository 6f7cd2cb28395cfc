package dev.vane.core.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.core.InvalidInputException;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The token strings of a tokenizer.json and their ids: the model's vocabulary plus the added tokens, looked up
 * the way the tokenizers library's {@code token_to_id} / {@code id_to_token} do (added tokens first).
 *
 * <p>DJL's binding does not expose these lookups, so they are read from the same file the native tokenizer
 * was built from.
 *
 * <pre>{@code
 * Vocabulary vocab = Vocabulary.read(path, root);
 * vocab.id("<|eot_id|>");   // OptionalInt[4]
 * vocab.token(4);           // "<|eot_id|>"
 * }</pre>
 */
final class Vocabulary {
    private final Map<String, Integer> ids;
    private final String[] tokens;

    private Vocabulary(Map<String, Integer> ids, String[] tokens) {
        this.ids = ids;
        this.tokens = tokens;
    }

    /**
     * Reads {@code model.vocab} (an object token -> id for BPE, WordPiece and WordLevel; a list of
     * {@code [token, score]} pairs indexed by id for Unigram) and {@code added_tokens}.
     *
     * @throws InvalidInputException naming {@code file} if either is missing or malformed
     */
    static Vocabulary read(Path file, JsonNode root) {
        JsonNode vocab = root.path("model").path("vocab");
        Map<String, Integer> modelIds = new HashMap<>();
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
                modelIds.put(entry.getKey(), id(file, entry.getValue(), "model.vocab[\"" + entry.getKey() + "\"]"));
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode pair = vocab.get(i);
                if (!pair.isArray() || pair.isEmpty() || !pair.get(0).isTextual()) {
                    throw new InvalidInputException(file, "model.vocab[" + i + "] is not a [token, score] pair");
                }
                modelIds.put(pair.get(0).asText(), i);
            }
        } else {
            throw new InvalidInputException(file, "no model.vocab (expected an object or a list)");
        }

        Map<String, Integer> addedIds = new HashMap<>();
        JsonNode added = root.path("added_tokens");
        if (!added.isMissingNode() && !added.isNull() && !added.isArray()) {
            throw new InvalidInputException(file, "added_tokens is not a list");
        }
        for (int i = 0; i < added.size(); i++) {
            JsonNode token = added.get(i);
            if (!token.path("content").isTextual()) {
                throw new InvalidInputException(file, "added_tokens[" + i + "] has no string \"content\"");
            }
            addedIds.put(token.get("content").asText(), id(file, token.get("id"), "added_tokens[" + i + "].id"));
        }

        int size = 0;
        for (int id : modelIds.values()) size = Math.max(size, id + 1);
        for (int id : addedIds.values()) size = Math.max(size, id + 1);
        String[] tokens = new String[size];
        modelIds.forEach((token, id) -> tokens[id] = token);
        addedIds.forEach((token, id) -> tokens[id] = token);
        Map<String, Integer> ids = new HashMap<>(modelIds);
        ids.putAll(addedIds);
        return new Vocabulary(Map.copyOf(ids), tokens);
    }

    private static int id(Path file, JsonNode node, String where) {
        if (node == null || !node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
            throw new InvalidInputException(file, where + " is not a non-negative integer id");
        }
        return node.asInt();
    }

    /** The id of {@code token}, if it is in the vocabulary or among the added tokens. */
    OptionalInt id(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The token string of {@code id}.
     *
     * @throws InvalidInputException if no token has this id
     */
    String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new InvalidInputException("token id " + id + " is not in the vocabulary (ids 0.." + (tokens.length - 1) + ")");
        }
        return tokens[id];
    }

    /** Number of distinct tokens, added tokens included (Hugging Face's {@code len(tokenizer)}). */
    int size() {
        return ids.size();
    }
}
