package dev.vane.train.full;

import dev.vane.core.model.LayerWeights;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.Float32Tensors;
import dev.vane.core.safetensors.SafetensorsCheckpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The float32 master weights of a full fine-tune and the model that computes with them. Every parameter is a
 * float array the optimiser updates; matrices are then {@link #publish published} into the float32 copies the
 * model's kernels read (norms and biases are the model's own arrays, so they need no copy).
 *
 * <pre>{@code
 * try (FullWeights weights = FullWeights.load(Path.of("models/organism-chat"))) {
 *     Model model = weights.model();
 *     // ... forward, backward, optimiser step on weights.parameters() ...
 *     weights.publish();
 * }
 * }</pre>
 */
public final class FullWeights implements AutoCloseable {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One trainable tensor.
     *
     * @param name    its Hugging Face name
     * @param values  the float32 master values (updated in place)
     * @param shape   its shape
     * @param decay   whether weight decay applies (matrices yes; norms, biases no: the usual convention)
     * @param segment what the model reads for a matrix, null for a vector the model reads directly
     */
    public record Parameter(String name, float[] values, long[] shape, boolean decay, MemorySegment segment) {
        /** Copies the master values into what the model reads. */
        public void publish() {
            if (segment != null) MemorySegment.copy(values, 0, segment, F32_LE, 0, values.length);
        }
    }

    private final Float32Tensors tensors;
    private final Model model;
    private final List<Parameter> parameters = new ArrayList<>();

    private FullWeights(Path dir) {
        this.tensors = Float32Tensors.copyOf(SafetensorsCheckpoint.open(dir));
        this.model = Model.load(dir, tensors);
        ModelConfig c = model.config();
        matrix("model.embed_tokens.weight");
        if (model.unembedding() != model.embedding()) matrix("lm_head.weight");
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            LayerWeights w = model.layer(l);
            vector(p + "input_layernorm.weight", w.attentionNorm());
            for (String m : List.of("q_proj", "k_proj", "v_proj", "o_proj")) matrix(p + "self_attn." + m + ".weight");
            vector(p + "self_attn.q_proj.bias", w.qBias());
            vector(p + "self_attn.k_proj.bias", w.kBias());
            vector(p + "self_attn.v_proj.bias", w.vBias());
            vector(p + "self_attn.o_proj.bias", w.oBias());
            vector(p + "self_attn.q_norm.weight", w.qNorm());
            vector(p + "self_attn.k_norm.weight", w.kNorm());
            if (c.sandwichNorms()) {
                vector(p + "post_attention_layernorm.weight", w.postAttentionNorm());
                vector(p + "pre_feedforward_layernorm.weight", w.mlpNorm());
                vector(p + "post_feedforward_layernorm.weight", w.postMlpNorm());
            } else {
                vector(p + "post_attention_layernorm.weight", w.mlpNorm());
            }
            for (String m : List.of("gate_proj", "up_proj", "down_proj")) matrix(p + "mlp." + m + ".weight");
            vector(p + "mlp.gate_proj.bias", w.gateBias());
            vector(p + "mlp.up_proj.bias", w.upBias());
            vector(p + "mlp.down_proj.bias", w.downBias());
        }
        vector("model.norm.weight", model.finalNorm());
    }

    /** Loads a checkpoint's weights as float32 masters (any on-disk dtype). */
    public static FullWeights load(Path dir) {
        return new FullWeights(dir);
    }

    private void matrix(String name) {
        MemorySegment seg = tensors.segment(name);
        float[] values = seg.toArray(F32_LE);
        parameters.add(new Parameter(name, values, tensors.info(name).shape(), true, seg));
    }

    private void vector(String name, float[] live) {
        if (live == null) return;
        parameters.add(new Parameter(name, live, new long[]{live.length}, false, null));
    }

    /** The model computing with the current (published) values. */
    public Model model() {
        return model;
    }

    /** Every trainable tensor, in checkpoint order. */
    public List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** Copies every matrix's master values into what the model reads (after an optimiser step). */
    public void publish() {
        for (Parameter p : parameters) p.publish();
    }

    @Override
    public void close() {
        model.close();
    }
}
