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

        int dModel = requiredInt(c, "hidden_size");
        int layers = requiredInt(c, "num_hidden_layers");
        int heads = requiredInt(c, "num_attention_heads");
        int kvHeads = optionalInt(c, "num_key_value_heads", heads);
        int headDim = optionalInt(c, "head_dim", heads > 0 ? dModel / heads : 0);
        int dFf = requiredInt(c, "intermediate_size");
        int vocab = requiredInt(c, "vocab_size");
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + heads
                    + ") must be a positive multiple of num_key_value_heads (" + kvHeads + ")");
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be positive and even, got " + headDim);
        }
        double eps = c.has("rms_norm_eps") ? c.get("rms_norm_eps").asDouble()
                : requiredNumber(c, "rms_norm_eps");
        int maxPos = optionalInt(c, "max_position_embeddings", 4096);

        // RoPE: newer configs nest everything under rope_parameters; classic ones use rope_theta + rope_scaling.
        JsonNode ropeParams = c.path("rope_parameters");
        double theta = ropeParams.has("rope_theta") ? ropeParams.get("rope_theta").asDouble()
                : c.path("rope_theta").asDouble(10000.0);
        JsonNode scalingNode = ropeParams.isObject() ? ropeParams : c.path("rope_scaling");
        RopeScaling scaling = parseRopeScaling(scalingNode);

        String act = c.has("hidden_activation") && !c.get("hidden_activation").isNull()
                ? c.get("hidden_activation").asText() : c.path("hidden_act").asText("silu");
        Activation activation = Activation.fromConfig(act, modelType);

        boolean attentionBias = c.path("attention_bias").asBoolean(false);
        boolean qkvBias = family == Family.QWEN2 || attentionBias;
        boolean outputBias = attentionBias;
        boolean mlpBias = c.path("mlp_bias").asBoolean(false);

        boolean tied = c.path("tie_word_embeddings").asBoolean(family.tiesEmbeddingsByDefault());

        int window = c.path("sliding_window").isNumber() ? c.get("sliding_window").asInt() : 0;
        boolean[] sliding = slidingLayers(c, family, layers, window);
        if (!anyTrue(sliding)) {
            window = 0;
        }

        float attnScale;
        if (c.has("query_pre_attn_scalar") && !c.get("query_pre_attn_scalar").isNull()) {
            attnScale = (float) (1.0 / Math.sqrt(c.get("query_pre_attn_scalar").asDouble()));
        } else {
            attnScale = (float) (1.0 / Math.sqrt(headDim));
        }
        float attnCap = family == Family.GEMMA2 ? (float) c.path("attn_logit_softcapping").asDouble(0) : 0f;
        float finalCap = family == Family.GEMMA2 ? (float) c.path("final_logit_softcapping").asDouble(0) : 0f;

        boolean gemma = family == Family.GEMMA || family == Family.GEMMA2;
        return new ModelConfig(family, dModel, layers, heads, kvHeads, headDim, dFf, vocab, eps, theta, scaling,
                maxPos, window, sliding, tied, activation, qkvBias, outputBias, mlpBias, family == Family.QWEN3,
                gemma ? 1f : 0f, gemma ? (float) Math.sqrt(dModel) : 1f, family == Family.GEMMA2,
                attnCap, finalCap, attnScale, c.path("bos_token_id").asInt(-1), eosIds(c.path("eos_token_id")));
    }

    private static RopeScaling parseRopeScaling(JsonNode s) {
        if (s == null || !s.isObject()) {
            return RopeScaling.NONE;
        }
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", requiredNumber(s, "factor"), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", requiredNumber(s, "factor"),
                    requiredNumber(s, "low_freq_factor"), requiredNumber(s, "high_freq_factor"),
                    (int) requiredNumber(s, "original_max_position_embeddings"));
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
                        int from = c.path("max_window_layers").asInt(layers);
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

    private static int[] eosIds(JsonNode node) {
        List<Integer> ids = new ArrayList<>();
        if (node.isArray()) node.forEach(n -> ids.add(n.asInt()));
        else if (node.isNumber()) ids.add(node.asInt());
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String requiredText(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException("missing field '" + key + "'");
        }
        return n.asText();
    }

    private static int requiredInt(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("missing field '" + key + "' (an integer)");
        }
        if (n.asInt() <= 0) {
            throw new IllegalArgumentException("field '" + key + "' must be positive, got " + n.asInt());
        }
        return n.asInt();
    }

    private static int optionalInt(JsonNode c, String key, int fallback) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? fallback : n.asInt();
    }

    private static double requiredNumber(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isNumber()) {
            throw new IllegalArgumentException("missing field '" + key + "' (a number)");
        }
        return n.asDouble();
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
