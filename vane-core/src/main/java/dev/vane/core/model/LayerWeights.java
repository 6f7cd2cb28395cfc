package dev.vane.core.model;

import dev.vane.core.tensor.Matrix;

/**
 * The weights of one decoder block. Matrices stay in their on-disk dtype; norm weights and biases are small
 * and read as float32. Optional parts are {@code null} when the family has none.
 *
 * @param attentionNorm     norm before attention ({@code input_layernorm})
 * @param postAttentionNorm norm on the attention output before the residual add (Gemma-2 only)
 * @param mlpNorm           norm before the MLP ({@code post_attention_layernorm}, or Gemma-2's
 *                          {@code pre_feedforward_layernorm})
 * @param postMlpNorm       norm on the MLP output before the residual add (Gemma-2 only)
 */
public record LayerWeights(
        float[] attentionNorm, Matrix q, Matrix k, Matrix v, Matrix o,
        float[] qBias, float[] kBias, float[] vBias, float[] oBias,
        float[] qNorm, float[] kNorm, float[] postAttentionNorm,
        float[] mlpNorm, Matrix gate, Matrix up, Matrix down,
        float[] gateBias, float[] upBias, float[] downBias, float[] postMlpNorm) {
}
