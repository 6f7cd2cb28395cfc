package dev.vane.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the forward pass needs to know about a checkpoint, read from its {@code config.json}.
 *
 * <p>Model families differ only by these flags - there is one forward pass for all of them.
 *
 * <pre>{@code
 * ModelConfig config = ModelConfig.read(Path.of("models/organism-chat/config.json"));
 * System.out.println(config.family() + " " + config.layers() + " layers");
 * }</pre>
 *
 * @param family                the model family ({@code model_type})
 * @param dModel                residual stream width ({@code hidden_size})
 * @param layers                number of decoder blocks
 * @param heads                 query heads
 * @param kvHeads               key/value heads (grouped-query attention when fewer than heads)
 * @param headDim               width of one head
 * @param dFf                   MLP hidden width ({@code intermediate_size})
 * @param vocabSize             vocabulary size
 * @param normEps               RMSNorm epsilon
 * @param ropeTheta             RoPE base
 * @param ropeScaling           RoPE frequency rescaling
 * @param maxPositions          {@code max_position_embeddings}
 * @param slidingWindow         sliding-window width, 0 for none
 * @param slidingLayers         which layers use the sliding window
 * @param tiedEmbeddings        the unembedding reuses the embedding matrix
 * @param activation            the MLP gate activation
 * @param qkvBias               q/k/v projections have biases
 * @param outputBias            o_proj has a bias
 * @param mlpBias               gate/up/down projections have biases
 * @param qkNorm                RMSNorm over each head of q and k before RoPE (Qwen3)
 * @param normOffset            1 when RMSNorm multiplies by (1 + w) (Gemma), else 0
 * @param embeddingScale        factor applied to token embeddings (sqrt(d_model) for Gemma)
 * @param sandwichNorms         extra norms after attention and around the MLP (Gemma-2)
 * @param attentionSoftcap      tanh soft-capping of attention logits, 0 for none
 * @param finalSoftcap          tanh soft-capping of the output logits, 0 for none
 * @param attentionScale        multiplier of q.k (1/sqrt(headDim), or query_pre_attn_scalar^-1/2)
 * @param bosTokenId            beginning-of-sequence token, -1 when none
 * @param eosTokenIds           end-of-sequence tokens
 */
public record ModelConfig(
        Family family, int dModel, int layers, int heads, int kvHeads, int headDim, int dFf, int vocabSize,
        double normEps, double ropeTheta, RopeScaling ropeScaling, int maxPositions,
        int slidingWindow, boolean[] slidingLayers, boolean tiedEmbeddings, Activation activation,
        boolean qkvBias, boolean outputBias, boolean mlpBias, boolean qkNorm, float normOffset,
        float embeddingScale, boolean sandwichNorms, float attentionSoftcap, float finalSoftcap,
        float attentionScale, int bosTokenId, int[] eosTokenIds) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code config.json} from a checkpoint directory or the file itself. */
    public static ModelConfig read(Path configOrDir) {
        Path file = Files.isDirectory(configOrDir) ? configOrDir.resolve("config.json") : configOrDir;
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "config.json not found");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(file, "not valid JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(file, "not a JSON object");
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, e.getMessage());
        }
    }

    /** Parses an already-read config object; errors are IllegalArgumentExceptions naming the field. */
    static ModelConfig parse(JsonNode c) {
        String modelType = requiredText(c, "model_type");
        Family family = Family.fromModelType(modelType);

        // Upper bounds far above any released model keep a damaged count from allocating gigabytes before the
        // checkpoint's tensors can contradict it.
        int dModel = requiredInt(c, "hidden_size", 1 << 17);
        int layers = requiredInt(c, "num_hidden_layers", 4096);
        int heads = requiredInt(c, "num_attention_heads", 4096);
        int kvHeads = optionalInt(c, "num_key_value_heads", heads, 4096);
        int headDim = optionalInt(c, "head_dim", Math.max(1, dModel / heads), 1 << 14);
        int dFf = requiredInt(c, "intermediate_size", 1 << 20);
        int vocab = requiredInt(c, "vocab_size", 1 << 24);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + heads
                    + ") must be a positive multiple of num_key_value_heads (" + kvHeads + ")");
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be positive and even, got " + headDim);
        }
        double eps = requiredNumber(c, "rms_norm_eps");
        if (!(eps > 0 && eps < 1)) throw new IllegalArgumentException("field 'rms_norm_eps' must be in (0, 1), got " + eps);
        int maxPos = optionalInt(c, "max_position_embeddings", 4096, Integer.MAX_VALUE);

        // RoPE: newer configs nest everything under rope_parameters; classic ones use rope_theta + rope_scaling.
        JsonNode ropeParams = c.path("rope_parameters");
        double theta = ropeParams.has("rope_theta") ? positiveNumber(ropeParams, "rope_theta", 0)
                : positiveNumber(c, "rope_theta", 10000.0);
        JsonNode scalingNode = ropeParams.isObject() ? ropeParams : c.path("rope_scaling");
        RopeScaling scaling = parseRopeScaling(scalingNode);

        String act = c.has("hidden_activation") && !c.get("hidden_activation").isNull()
                ? c.get("hidden_activation").asText() : c.path("hidden_act").asText("silu");
        Activation activation = Activation.fromConfig(act, modelType);

        boolean attentionBias = optionalBoolean(c, "attention_bias", false);
        boolean qkvBias = family == Family.QWEN2 || attentionBias;
        boolean outputBias = attentionBias;
        boolean mlpBias = optionalBoolean(c, "mlp_bias", false);

        boolean tied = optionalBoolean(c, "tie_word_embeddings", family.tiesEmbeddingsByDefault());

        JsonNode w = c.get("sliding_window");     // null or 0: no window
        int window = w == null || w.isNull() || (w.isIntegralNumber() && w.asLong() == 0) ? 0
                : optionalInt(c, "sliding_window", 0, Integer.MAX_VALUE);
        boolean[] sliding = slidingLayers(c, family, layers, window);
        if (!anyTrue(sliding)) {
            window = 0;
        }

        float attnScale;
        if (c.has("query_pre_attn_scalar") && !c.get("query_pre_attn_scalar").isNull()) {
            attnScale = (float) (1.0 / Math.sqrt(positiveNumber(c, "query_pre_attn_scalar", 0)));
        } else {
            attnScale = (float) (1.0 / Math.sqrt(headDim));
        }
        float attnCap = family == Family.GEMMA2 ? (float) softcap(c, "attn_logit_softcapping") : 0f;
        float finalCap = family == Family.GEMMA2 ? (float) softcap(c, "final_logit_softcapping") : 0f;

        boolean gemma = family == Family.GEMMA || family == Family.GEMMA2;
        return new ModelConfig(family, dModel, layers, heads, kvHeads, headDim, dFf, vocab, eps, theta, scaling,
                maxPos, window, sliding, tied, activation, qkvBias, outputBias, mlpBias, family == Family.QWEN3,
                gemma ? 1f : 0f, gemma ? (float) Math.sqrt(dModel) : 1f, family == Family.GEMMA2,
                attnCap, finalCap, attnScale, tokenId(c, "bos_token_id"), eosIds(c.path("eos_token_id"), "eos_token_id"));
    }

    private static RopeScaling parseRopeScaling(JsonNode s) {
        if (s == null || !s.isObject()) {
            return RopeScaling.NONE;
        }
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", positiveNumber(s, "factor", 0), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", positiveNumber(s, "factor", 0),
                    positiveNumber(s, "low_freq_factor", 0), positiveNumber(s, "high_freq_factor", 0),
                    requiredInt(s, "original_max_position_embeddings", Integer.MAX_VALUE));
            default -> throw new IllegalArgumentException("rope scaling type '" + type
                    + "' is not supported (supported: default, linear, llama3)");
        };
    }

    private static boolean[] slidingLayers(JsonNode c, Family family, int layers, int window) {
        boolean[] sliding = new boolean[layers];
        JsonNode types = c.path("layer_types");
        if (types.isArray()) {
            if (types.size() != layers) {
                throw new IllegalArgumentException("layer_types has " + types.size() + " entries for "
                        + layers + " layers");
            }
            for (int i = 0; i < layers; i++) {
                sliding[i] = types.get(i).asText().equals("sliding_attention");
            }
        } else if (window > 0) {
            switch (family) {
                case MISTRAL -> java.util.Arrays.fill(sliding, true);
                // transformers: even layers slide (layer 0, 2, ...), odd layers attend globally.
                case GEMMA2 -> { for (int i = 0; i < layers; i += 2) sliding[i] = true; }
                case QWEN2, QWEN3 -> {
                    if (c.path("use_sliding_window").asBoolean(false)) {
                        int from = Math.min(layers, optionalInt(c, "max_window_layers", layers, Integer.MAX_VALUE));
                        for (int i = from; i < layers; i++) sliding[i] = true;
                    }
                }
                default -> { }
            }
        }
        if (anyTrue(sliding) && window <= 0) {
            throw new IllegalArgumentException("layers use sliding attention but sliding_window is missing");
        }
        return sliding;
    }

    private static boolean anyTrue(boolean[] values) {
        for (boolean v : values) if (v) return true;
        return false;
    }

    /**
     * Token ids of an {@code eos_token_id}-style field: a non-negative integer, a list of them, or null/absent
     * (none). Anything else is an error naming {@code field}.
     */
    public static int[] eosIds(JsonNode node, String field) {
        List<Integer> ids = new ArrayList<>();
        if (node == null || node.isMissingNode() || node.isNull()) return new int[0];
        if (node.isArray()) {
            for (JsonNode n : node) ids.add(tokenIdValue(n, field));
        } else {
            ids.add(tokenIdValue(node, field));
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int tokenId(JsonNode c, String key) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? -1 : tokenIdValue(n, key);
    }

    private static int tokenIdValue(JsonNode n, String field) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
            throw new IllegalArgumentException("field '" + field + "' must hold token ids (non-negative integers), got " + n);
        }
        return n.asInt();
    }

    private static boolean optionalBoolean(JsonNode c, String key, boolean fallback) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw new IllegalArgumentException("field '" + key + "' must be true or false, got " + n);
        return n.asBoolean();
    }

    /** A finite number > 0; {@code fallback} when absent or null, unless it is 0 (then the field is required). */
    private static double positiveNumber(JsonNode c, String key, double fallback) {
        JsonNode n = c.get(key);
        if ((n == null || n.isNull()) && fallback > 0) return fallback;
        double v = requiredNumber(c, key);
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("field '" + key + "' must be a positive finite number, got " + n);
        }
        return v;
    }

    /** A soft-cap: absent, null or 0 for none, else a positive finite number. */
    private static double softcap(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull() || (n.isNumber() && n.asDouble() == 0)) return 0;
        return positiveNumber(c, key, 0);
    }

    private static String requiredText(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException("missing field '" + key + "'");
        }
        return n.asText();
    }

    private static int requiredInt(JsonNode c, String key, int max) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing field '" + key + "' (an integer)");
        return positiveInt(n, key, max);
    }

    /** A positive integer no larger than {@code max}; {@code fallback} when absent or null. */
    private static int optionalInt(JsonNode c, String key, int fallback, int max) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? fallback : positiveInt(n, key, max);
    }

    private static int positiveInt(JsonNode n, String key, int max) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("field '" + key + "' must be an integer, got " + n);
        }
        if (n.asInt() <= 0) {
            throw new IllegalArgumentException("field '" + key + "' must be positive, got " + n.asInt());
        }
        if (n.asInt() > max) {
            throw new IllegalArgumentException("field '" + key + "' is " + n.asInt() + ", more than any model has ("
                    + max + " at most)");
        }
        return n.asInt();
    }

    private static double requiredNumber(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing field '" + key + "' (a number)");
        if (!n.isNumber()) throw new IllegalArgumentException("field '" + key + "' must be a number, got " + n);
        double v = n.asDouble();
        if (!Double.isFinite(v)) throw new IllegalArgumentException("field '" + key + "' must be finite, got " + n);
        return v;
    }

    /** Whether layer {@code layer} attends through the sliding window. */
    public boolean isSliding(int layer) {
        return slidingWindow > 0 && slidingLayers[layer];
    }

    /** Number of query heads sharing one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }
}
