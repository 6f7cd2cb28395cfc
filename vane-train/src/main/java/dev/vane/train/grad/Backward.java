package dev.vane.train.grad;

import dev.vane.core.hook.CallLayout;
import dev.vane.core.model.LayerWeights;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.model.TrainingTape;
import dev.vane.core.tensor.ComputePool;
import dev.vane.core.tensor.FloatGemm;
import dev.vane.core.tensor.Matrix;
import dev.vane.core.tensor.VectorMath;

import java.util.List;

/**
 * The backward pass of the one forward pass, written to be read beside it (llm.c is the model): the loss head,
 * then the blocks in reverse, each step's gradient next to the step it undoes, then the embedding. It reads
 * what a training forward kept in a {@link TrainingTape}.
 *
 * <p>Editing hooks count as constants: the gradient passes through a hooked value unchanged (exact for an
 * added steering vector; for edits that replace values, such as patching or ablation, it is the
 * straight-through estimate).
 *
 * <pre>{@code
 * TrainingTape tape = new TrainingTape(false, seed);
 * model.forwardForTraining(Batch.of(ids), Hooks.none(), tape);
 * Gradients g = Gradients.allParameters().withInputs();
 * double loss = Backward.run(model, tape, new int[]{5, 6}, new CrossEntropy(new int[]{ids[6], ids[7]},
 *         new float[]{1, 1}, 2), g);
 * }</pre>
 */
public final class Backward {
    private final Model model;
    private final ModelConfig c;
    private final TrainingTape tape;
    private final Gradients g;
    private final CallLayout call;
    private final int rows;
    private final int columns;
    private final int tokens;

    private Backward(Model model, TrainingTape tape, Gradients g) {
        this.model = model;
        this.c = model.config();
        this.tape = tape;
        this.g = g;
        this.call = tape.call();
        this.rows = tape.rows();
        this.columns = tape.columns();
        this.tokens = rows * columns;
    }

    /**
     * Scores the logits at {@code positions} (flat token indices {@code row * columns + column} of the tape's
     * call) with {@code objective} and accumulates every wanted gradient into {@code g}.
     *
     * @return the objective's loss
     */
    public static double run(Model model, TrainingTape tape, int[] positions, Objective objective, Gradients g) {
        return new Backward(model, tape, g).run(positions, objective);
    }

    private double run(int[] positions, Objective objective) {
        int d = c.dModel();
        float[] dx = new float[tokens * d];
        double loss = head(positions, objective, dx);

        // final norm: x -> normed
        dx = rmsNormBackward(tape.finalResid(), model.finalNorm(), dx, d, "model.norm.weight");

        for (int l = c.layers() - 1; l >= 0; l--) {
            block(l, dx);
            tape.release(l);
        }
        embedding(dx);
        return loss;
    }

    // ---- the loss head: logits at the scored positions ---------------------------------------------------

    private double head(int[] positions, Objective objective, float[] dNormed) {
        int d = c.dModel(), vocab = c.vocabSize(), n = positions.length;
        float[] normed = tape.finalNormed();
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) System.arraycopy(normed, positions[i] * d, x, i * d, d);
        float[] logits = new float[n * vocab];
        model.unembedding().matmul(x, n, logits, model.compute());
        float cap = c.finalSoftcap();
        if (cap > 0) for (int i = 0; i < logits.length; i++) logits[i] = cap * (float) Math.tanh(logits[i] / cap);

        float[] dLogits = new float[n * vocab];
        double loss = objective.lossAndGradient(logits, n, vocab, dLogits);
        // softcap: y = cap tanh(z / cap), dy/dz = 1 - (y / cap)^2
        if (cap > 0) {
            for (int i = 0; i < logits.length; i++) {
                float t = logits[i] / cap;
                dLogits[i] *= 1 - t * t;
            }
        }
        float[] dx = new float[n * d];
        model.unembedding().matmulTransposed(dLogits, n, dx, false, model.compute());
        for (int i = 0; i < n; i++) VectorMath.axpy(1f, dx, i * d, dNormed, positions[i] * d, d);
        boolean tied = model.unembedding() == model.embedding();
        String name = tied ? "model.embed_tokens.weight" : "lm_head.weight";
        if (g.wants(name)) FloatGemm.tn(dLogits, x, n, vocab, d, g.accumulator(name, vocab * d), true);
        return loss;
    }

    // ---- one block, in reverse ---------------------------------------------------------------------------

    /** dx: gradient of the block's output on entry, of its input on return. */
    private void block(int l, float[] dx) {
        int d = c.dModel();
        LayerWeights w = model.layer(l);
        TrainingTape.Block rec = tape.block(l);
        String p = "model.layers." + l + ".";

        // x_post = x_mid + postMlpNorm(mlpOut)
        float[] dMlpOut = dx.clone();
        if (c.sandwichNorms()) {
            dMlpOut = rmsNormBackward(rec.mlpOut, w.postMlpNorm(), dMlpOut, d, p + "post_feedforward_layernorm.weight");
        }
        // mlpOut = down(act(gate) * up)
        int ff = c.dFf();
        float[] act = new float[tokens * ff];
        chunks(act.length, (from, to) -> {
            for (int i = from; i < to; i++) act[i] = c.activation().apply(rec.gate[i]) * rec.up[i];
        });
        float[] dAct = linearBackward(l, Target.DOWN, w.down(), w.downBias(), act, dMlpOut, p + "mlp.down_proj", rec);
        // act = f(gate) * up: d up = dAct f(gate), d gate = dAct up f'(gate)
        float[] dGate = new float[act.length], dUp = new float[act.length];
        chunks(act.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                float gv = rec.gate[i];
                dUp[i] = dAct[i] * c.activation().apply(gv);
                dGate[i] = dAct[i] * rec.up[i] * derivative(gv);
            }
        });
        float[] dNormed2 = linearBackward(l, Target.GATE, w.gate(), w.gateBias(), rec.normed2, dGate, p + "mlp.gate_proj", rec);
        VectorMath.add(dNormed2, linearBackward(l, Target.UP, w.up(), w.upBias(), rec.normed2, dUp, p + "mlp.up_proj", rec));
        String mlpNorm = c.sandwichNorms() ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight";
        VectorMath.add(dx, rmsNormBackward(rec.residMid, w.mlpNorm(), dNormed2, d, p + mlpNorm));

        // x_mid = x_pre + postAttentionNorm(o(attention(q, k, v)))
        float[] dAttnOut = dx.clone();
        if (c.sandwichNorms()) {
            dAttnOut = rmsNormBackward(rec.attnOut, w.postAttentionNorm(), dAttnOut, d, p + "post_attention_layernorm.weight");
        }
        float[] dz = linearBackward(l, Target.O, w.o(), w.oBias(), rec.z, dAttnOut, p + "self_attn.o_proj", rec);
        int hd = c.headDim();
        float[] dq = new float[rec.q.length], dk = new float[rec.k.length], dv = new float[rec.v.length];
        attentionBackward(l, rec, dz, dq, dk, dv);
        ropeBackward(dq, c.heads());
        ropeBackward(dk, c.kvHeads());
        if (c.qkNorm()) {
            dq = rmsNormBackward(rec.qPreNorm, w.qNorm(), dq, hd, p + "self_attn.q_norm.weight");
            dk = rmsNormBackward(rec.kPreNorm, w.kNorm(), dk, hd, p + "self_attn.k_norm.weight");
        }
        float[] dNormed1 = linearBackward(l, Target.Q, w.q(), w.qBias(), rec.normed1, dq, p + "self_attn.q_proj", rec);
        VectorMath.add(dNormed1, linearBackward(l, Target.K, w.k(), w.kBias(), rec.normed1, dk, p + "self_attn.k_proj", rec));
        VectorMath.add(dNormed1, linearBackward(l, Target.V, w.v(), w.vBias(), rec.normed1, dv, p + "self_attn.v_proj", rec));
        VectorMath.add(dx, rmsNormBackward(rec.residPre, w.attentionNorm(), dNormed1, d, p + "input_layernorm.weight"));
    }

    /**
     * y = W x + b + sum over adapters of s B A drop(x): returns dx and accumulates dW, db and the trained
     * adapter's dA, dB.
     */
    private float[] linearBackward(int l, Target target, Matrix w, float[] bias, float[] x, float[] dy, String name,
                                   TrainingTape.Block rec) {
        int in = w.cols(), out = w.rows();
        float[] dxOut = new float[tokens * in];
        w.matmulTransposed(dy, tokens, dxOut, false, model.compute());
        if (g.wants(name + ".weight")) FloatGemm.tn(dy, x, tokens, out, in, g.accumulator(name + ".weight", out * in), true);
        if (bias != null && g.wants(name + ".bias")) {
            float[] db = g.accumulator(name + ".bias", out);
            for (int t = 0; t < tokens; t++) VectorMath.axpy(1f, dy, t * out, db, 0, out);
        }
        List<LoraAdapter> adapters = model.adapters();
        for (int i = 0; i < adapters.size(); i++) {
            LoraAdapter a = adapters.get(i);
            if (!a.has(l, target)) continue;
            int r = a.rank();
            float s = a.scale();
            float[] input = rec.loraInput(i, target);
            if (input == null) input = x;
            // u = input A^T; y += s u B^T
            float[] dyScaled = new float[dy.length];
            for (int k = 0; k < dy.length; k++) dyScaled[k] = s * dy[k];
            float[] du = new float[tokens * r];
            FloatGemm.nn(dyScaled, a.b(l, target), tokens, r, out, du, false);
            if (a == g.adapter()) {
                float[] u = a.down(l, target, input, tokens);
                FloatGemm.tn(dyScaled, u, tokens, out, r, g.loraB(l, target), true);
                FloatGemm.tn(du, input, tokens, r, in, g.loraA(l, target), true);
            }
            float[] dInput = new float[tokens * in];
            FloatGemm.nn(du, a.a(l, target), tokens, in, r, dInput, false);
            if (a.dropout() > 0) {
                float[] scales = tape.dropoutScales(dInput.length, a.dropout(), l, target, i);
                for (int k = 0; k < dInput.length; k++) dInput[k] *= scales[k];
            }
            VectorMath.add(dxOut, dInput);
        }
        return dxOut;
    }

    /**
     * softmax(q k^T * scale [soft-capped]) v, undone per (row, kv head) so that each task owns its keys' and
     * values' gradients: dP = dz v^T, dS = P (dP - rowsum(P dP)), dq = dS k * scale, dk = dS^T q * scale,
     * dv = P^T dz.
     */
    private void attentionBackward(int l, TrainingTape.Block rec, float[] dz, float[] dq, float[] dk, float[] dv) {
        int hd = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads(), group = c.groupSize();
        float scale = c.attentionScale(), cap = c.attentionSoftcap();
        float[] q = rec.q, k = rec.k, v = rec.v, probs = rec.probs;
        ComputePool.get().parallelFor(rows * kvHeads, task -> {
            int r = task / kvHeads, kv = task % kvHeads;
            float[] dp = new float[columns];
            for (int h = kv * group; h < (kv + 1) * group; h++) {
                for (int col = 0; col < columns; col++) {
                    if (call.tokenIndex(r, col) < 0) continue;
                    int pOff = ((r * heads + h) * columns + col) * columns;
                    int zOff = ((r * columns + col) * heads + h) * hd;
                    double dot = 0;
                    for (int j = 0; j < columns; j++) {
                        float pj = probs[pOff + j];
                        if (pj == 0f) continue;
                        dp[j] = VectorMath.dot(dz, zOff, v, ((r * columns + j) * kvHeads + kv) * hd, hd);
                        dot += pj * dp[j];
                    }
                    for (int j = 0; j < columns; j++) {
                        float pj = probs[pOff + j];
                        if (pj == 0f) continue;
                        int kOff = ((r * columns + j) * kvHeads + kv) * hd;
                        float ds = (float) (pj * (dp[j] - dot));
                        if (cap > 0) {
                            float t = (float) Math.tanh(VectorMath.dot(q, zOff, k, kOff, hd) * scale / cap);
                            ds *= 1 - t * t;
                        }
                        ds *= scale;
                        VectorMath.axpy(ds, k, kOff, dq, zOff, hd);
                        VectorMath.axpy(ds, q, zOff, dk, kOff, hd);
                        VectorMath.axpy(pj, dz, zOff, dv, kOff, hd);
                    }
                }
            }
        });
    }

    /** RoPE is a rotation, so its backward is the inverse rotation: (d1, d2) -> (d1 cos + d2 sin, d2 cos - d1 sin). */
    private void ropeBackward(float[] dx, int heads) {
        int hd = c.headDim(), half = hd / 2;
        float[] cos = tape.cos(), sin = tape.sin();
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * hd;
                for (int i = 0; i < half; i++) {
                    float d1 = dx[base + i], d2 = dx[base + half + i];
                    float co = cos[t * half + i], si = sin[t * half + i];
                    dx[base + i] = d1 * co + d2 * si;
                    dx[base + half + i] = d2 * co - d1 * si;
                }
            }
        }
    }

    /**
     * y = x / rms(x) * (offset + w) over groups of {@code width}: returns dx and accumulates dw under
     * {@code name}. dx_i = r g_i - x_i r^3 (g . x) / n with g = dy (offset + w), r = 1 / rms(x).
     */
    private float[] rmsNormBackward(float[] x, float[] weight, float[] dy, int width, String name) {
        float offset = c.normOffset();
        double eps = c.normEps();
        float[] dx = new float[x.length];
        float[] dw = g.wants(name) ? g.accumulator(name, width) : null;
        for (int base = 0; base < x.length; base += width) {
            double ss = 0;
            for (int i = 0; i < width; i++) ss += (double) x[base + i] * x[base + i];
            double r = 1.0 / Math.sqrt(ss / width + eps);
            double gx = 0;
            for (int i = 0; i < width; i++) gx += (double) dy[base + i] * (offset + weight[i]) * x[base + i];
            double k = r * r * r * gx / width;
            for (int i = 0; i < width; i++) {
                dx[base + i] = (float) (r * dy[base + i] * (offset + weight[i]) - x[base + i] * k);
                if (dw != null) dw[i] += (float) (dy[base + i] * x[base + i] * r);
            }
        }
        return dx;
    }

    private interface Range {
        void run(int from, int to);
    }

    /** Element-wise work over [0, n) split into chunks across the pool. */
    private static void chunks(int n, Range body) {
        int chunk = 8192;
        ComputePool.get().parallelFor((n + chunk - 1) / chunk, k -> body.run(k * chunk, Math.min(n, (k + 1) * chunk)));
    }

    /** The gate activation's derivative. */
    private float derivative(float x) {
        return switch (c.activation()) {
            case SILU -> {
                double s = 1 / (1 + Math.exp(-x));
                yield (float) (s * (1 + x * (1 - s)));
            }
            case GELU_TANH -> {
                double k = Math.sqrt(2.0 / Math.PI), u = k * (x + 0.044715 * x * x * x), t = Math.tanh(u);
                yield (float) (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x));
            }
        };
    }

    // ---- the embedding -----------------------------------------------------------------------------------

    /**
     * dx is dL/d hook_embed, the embeddings as the first block sees them (after any embedding scale: what
     * transformers 5 takes as {@code inputs_embeds}, its Gemma scale living in the embedding module); the
     * embedding rows get dx times the scale.
     */
    private void embedding(float[] dx) {
        int d = c.dModel();
        if (g.wantsInputs()) g.inputsEmbeds(dx);
        String name = "model.embed_tokens.weight";
        if (g.wants(name)) {
            float scale = c.embeddingScale();
            float[] dE = g.accumulator(name, c.vocabSize() * d);
            int[][] ids = tape.batch().tokens();
            for (int r = 0; r < rows; r++) {
                for (int col = 0; col < columns; col++) {
                    if (call.tokenIndex(r, col) < 0) continue;
                    VectorMath.axpy(scale, dx, (r * columns + col) * d, dE, ids[r][col] * d, d);
                }
            }
        }
    }

    /**
     * The gradient with respect to one-hot token inputs, [tokens, vocab]: a one-hot row selects an embedding
     * row, which is then scaled, so it is scale x dL/d inputs_embeds x E^T (what GCG ranks substitutions by).
     */
    public static float[] oneHot(Model model, float[] dInputsEmbeds, int tokens) {
        float[] out = new float[tokens * model.config().vocabSize()];
        model.embedding().matmul(dInputsEmbeds, tokens, out);
        float scale = model.config().embeddingScale();
        if (scale != 1f) for (int i = 0; i < out.length; i++) out[i] *= scale;
        return out;
    }
}
