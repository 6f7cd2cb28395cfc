package dev.vane.lab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Model shapes the benchmark builds synthetic checkpoints for: the exact layouts of public models, with random
 * weights (speed does not depend on the values).
 *
 * <pre>{@code
 * BenchShape shape = BenchShape.byName("llama-3.2-1b");
 * String configJson = shape.configJson();
 * }</pre>
 */
public enum BenchShape {
    /** Qwen2.5-0.5B: q/k/v biases, tied embeddings, GQA 14/2. */
    QWEN25_05B("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, true, 1_000_000, false, 32768, 1e-6),
    /** Llama-3.2-1B: GQA 32/8, Llama-3 RoPE scaling, tied embeddings. */
    LLAMA32_1B("llama-3.2-1b", "llama", 2048, 16, 32, 8, 8192, 128256, true, 500_000, true, 131072, 1e-5),
    /** TinyLlama-1.1B: GQA 32/4, separate lm_head. */
    TINYLLAMA_11B("tinyllama-1.1b", "llama", 2048, 22, 32, 4, 5632, 32000, false, 10_000, false, 2048, 1e-5),
    /** A tiny shape for tests of the benchmark itself. */
    TINY("tiny", "llama", 128, 2, 4, 2, 256, 1000, false, 10_000, false, 2048, 1e-5);

    final String name;
    final String modelType;
    final int hidden;
    final int layers;
    final int heads;
    final int kvHeads;
    final int intermediate;
    final int vocab;
    final boolean tied;
    final double ropeTheta;
    final boolean llama3Rope;
    final int maxPositions;
    final double eps;

    BenchShape(String name, String modelType, int hidden, int layers, int heads, int kvHeads, int intermediate,
               int vocab, boolean tied, double ropeTheta, boolean llama3Rope, int maxPositions, double eps) {
        this.name = name;
        this.modelType = modelType;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.intermediate = intermediate;
        this.vocab = vocab;
        this.tied = tied;
        this.ropeTheta = ropeTheta;
        this.llama3Rope = llama3Rope;
        this.maxPositions = maxPositions;
        this.eps = eps;
    }

    /** The name used on the command line, e.g. {@code llama-3.2-1b}. */
    public String shapeName() {
        return name;
    }

    /** The shape for a command-line name; an unknown one fails with the list. */
    public static BenchShape byName(String name) {
        return Arrays.stream(values()).filter(s -> s.name.equals(name)).findFirst()
                .orElseThrow(() -> new InvalidInputException("unknown shape '" + name + "' (known: " + names() + ")"));
    }

    /** Comma-separated shape names. */
    public static String names() {
        return Arrays.stream(values()).map(s -> s.name).collect(Collectors.joining(", "));
    }

    int headDim() {
        return hidden / heads;
    }

    /** config.json of the synthetic checkpoint, as transformers would write it. */
    public String configJson() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add(modelType.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        c.put("model_type", modelType);
        c.put("hidden_size", hidden);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("intermediate_size", intermediate);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", eps);
        c.put("rope_theta", ropeTheta);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", tied);
        c.put("torch_dtype", "bfloat16");
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        if (llama3Rope) {
            ObjectNode s = c.putObject("rope_scaling");
            s.put("rope_type", "llama3");
            s.put("factor", 32.0);
            s.put("low_freq_factor", 1.0);
            s.put("high_freq_factor", 4.0);
            s.put("original_max_position_embeddings", 8192);
        }
        return c.toPrettyString();
    }
}
