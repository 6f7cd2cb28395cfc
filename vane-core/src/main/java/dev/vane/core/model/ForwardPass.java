package dev.vane.core.model;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.CallLayout;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.HookPoint.Kind;
import dev.vane.core.hook.HookTensor;
import dev.vane.core.hook.Hooks;
import dev.vane.core.tensor.Blas;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tensor.ComputePool;
import dev.vane.core.tensor.Matrix;
import dev.vane.core.tensor.VectorMath;

import java.lang.foreign.MemorySegment;


/**
 * One forward call of a decoder-only transformer, written to be read top to bottom: embed, then per block
 * norm - attention - residual add - norm - MLP - residual add, then the final norm and the unembedding.
 * Every hook point of {@link HookPoint} is a line below; the family differences are flags of
 * {@link ModelConfig}.
 *
 * <p>Activations are float32 arrays laid out [row, column, features] over the whole call (padding columns
 * included: they are computed and ignored, which keeps the code free of ragged indexing).
 */
final class ForwardPass {
    private final Model model;
    private final ModelConfig c;
    private final Batch batch;
    private final Hooks hooks;
    private final KvCache cache;
    /** Columns at the end of each row that get logits: all, 1 for LAST, 0 for NONE, or a caller's count. */
    private final int logitColumns;
    private final CallLayout call;
    private final int rows;
    private final int columns;
    private final int tokens;
    /** Buffers of this call, reused from the cache's previous call of the same size. */
    private final Workspace ws;
    /** What a training forward keeps for the backward pass; null in inference. */
    private final TrainingTape tape;
    /** Whether this call records every block's internals (else only their inputs: checkpointing). */
    private final boolean recordBlocks;

    ForwardPass(Model model, Batch batch, Hooks hooks, KvCache cache, LogitsMode logitsMode) {
        this(model, batch, hooks, cache, logitsMode, null, false, -1);
    }

    /** A call that computes logits for the last {@code lastColumns} columns of each row. */
    ForwardPass(Model model, Batch batch, Hooks hooks, KvCache cache, int lastColumns) {
        this(model, batch, hooks, cache, LogitsMode.LAST, null, false, lastColumns);
    }

    ForwardPass(Model model, Batch batch, Hooks hooks, KvCache cache, LogitsMode logitsMode, TrainingTape tape,
                boolean recordBlocks) {
        this(model, batch, hooks, cache, logitsMode, tape, recordBlocks, -1);
    }

    private ForwardPass(Model model, Batch batch, Hooks hooks, KvCache cache, LogitsMode logitsMode, TrainingTape tape,
                        boolean recordBlocks, int lastColumns) {
        this.tape = tape;
        this.recordBlocks = recordBlocks;
        this.model = model;
        this.c = model.config();
        this.batch = batch;
        this.hooks = hooks;
        this.cache = cache;
        hooks.validate(c.layers());
        this.call = cache.begin(batch);
        this.rows = batch.rows();
        this.columns = batch.columns();
        this.tokens = rows * columns;
        if (lastColumns > columns) {
            throw new IllegalArgumentException("logits for the last " + lastColumns + " columns of a call of " + columns);
        }
        this.logitColumns = lastColumns >= 0 ? lastColumns
                : switch (logitsMode) {
                    case ALL -> columns;
                    case LAST -> 1;
                    case NONE -> 0;
                };
        for (int r = 0; r < rows; r++) {
            if (call.rowLength(r) > c.maxPositions()) {
                throw new InvalidInputException("sequence of " + call.rowLength(r) + " tokens is longer than the "
                        + "model's context (max_position_embeddings " + c.maxPositions() + ")");
            }
        }
        this.ws = cache.workspace(c, tokens);
        if (tape != null) tape.begin(call, rows, columns);
        // RoPE rotation of each (row, column): cos and sin for each frequency.
        int half = c.headDim() / 2;
        float[] cos = ws.cos, sin = ws.sin;
        float[] inv = model.inverseFrequencies();
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < columns; col++) {
                int position = Math.max(0, call.tokenIndex(r, col));    // padding: any position, never attended
                for (int i = 0; i < half; i++) {
                    float angle = position * inv[i];     // float32 product, as transformers computes it
                    cos[(r * columns + col) * half + i] = (float) Math.cos(angle);
                    sin[(r * columns + col) * half + i] = (float) Math.sin(angle);
                }
            }
        }
        if (tape != null) tape.rotation(cos.clone(), sin.clone());
    }

    ForwardResult run() {
        int d = c.dModel();
        float[] x = embed();
        hook(HookPoint.of(-1, Kind.EMBED), x, d);

        float[] normed = ws.normed;
        for (int l = 0; l < c.layers(); l++) {
            hook(HookPoint.of(l, Kind.RESID_PRE), x, d);
            block(l, x);
        }
        cache.commit(columns);

        if (tape != null) tape.finalResid = x.clone();
        rmsNorm(x, model.finalNorm(), normed, d);
        hook(HookPoint.of(-1, Kind.LN_FINAL), normed, d);
        if (tape != null) tape.finalNormed = normed.clone();
        return new ForwardResult(unembed(normed), call, logitColumns);
    }

    /**
     * Block {@code l} on the residual stream x (after its resid_pre hooks): norm - attention - add - norm -
     * MLP - add. A training forward records here what the backward needs to undo each step.
     */
    private void block(int l, float[] x) {
        int d = c.dModel();
        LayerWeights w = model.layer(l);
        float[] normed = ws.normed;
        TrainingTape.Block rec = tape == null ? null : tape.startBlock(l, x, recordBlocks);

        rmsNorm(x, w.attentionNorm(), normed, d);
        if (rec != null) rec.normed1 = normed.clone();
        float[] attnOut = attention(l, w, normed, rec);
        hook(HookPoint.of(l, Kind.ATTN_OUT), attnOut, d);
        if (rec != null) rec.attnOut = attnOut.clone();
        if (c.sandwichNorms()) rmsNorm(attnOut, w.postAttentionNorm(), attnOut, d);
        VectorMath.add(x, attnOut);
        hook(HookPoint.of(l, Kind.RESID_MID), x, d);
        if (rec != null) rec.residMid = x.clone();

        rmsNorm(x, w.mlpNorm(), normed, d);
        if (rec != null) rec.normed2 = normed.clone();
        float[] mlpOut = mlp(l, w, normed, rec);
        hook(HookPoint.of(l, Kind.MLP_OUT), mlpOut, d);
        if (rec != null) rec.mlpOut = mlpOut.clone();
        if (c.sandwichNorms()) rmsNorm(mlpOut, w.postMlpNorm(), mlpOut, d);
        VectorMath.add(x, mlpOut);
        hook(HookPoint.of(l, Kind.RESID_POST), x, d);
    }

    /** Re-runs block {@code l} of a checkpointed training call from its recorded input, recording everything. */
    void recompute(int l) {
        float[] x = ws.x;
        System.arraycopy(tape.residPre(l), 0, x, 0, x.length);
        block(l, x);
    }

    /** Adds every adapter's low-rank term of one target (training: on dropped-out inputs, recorded). */
    private void adapt(int layer, LoraAdapter.Target target, float[] x, float[] y, TrainingTape.Block rec) {
        var adapters = model.adapters();
        for (int i = 0; i < adapters.size(); i++) {
            LoraAdapter a = adapters.get(i);
            if (!a.has(layer, target)) continue;
            float[] input = x;
            if (tape != null && a.dropout() > 0) {
                input = tape.dropout(x, a.dropout(), layer, target, i);
                if (rec != null) rec.loraInput(i, target, input);
            }
            a.up(layer, target, a.down(layer, target, input, tokens), tokens, y);
        }
    }

    private float[] embed() {
        int d = c.dModel();
        float[] x = ws.x;
        java.util.Arrays.fill(x, 0f);                                  // padding columns stay zero
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < columns; col++) {
                int id = batch.tokens()[r][col];
                if (call.tokenIndex(r, col) < 0) continue;            // padding stays zero
                if (id < 0 || id >= c.vocabSize()) {
                    throw new InvalidInputException("token id " + id + " is outside the vocabulary (size "
                            + c.vocabSize() + ")");
                }
                model.embedding().readRow(id, x, (r * columns + col) * d);
            }
        }
        if (c.embeddingScale() != 1f) {
            for (int i = 0; i < x.length; i++) x[i] *= c.embeddingScale();
        }
        return x;
    }

    private float[] attention(int layer, LayerWeights w, float[] h, TrainingTape.Block rec) {
        int hd = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads();
        float[] q = ws.q, k = ws.k, v = ws.v;
        Matrix.matmulAll(new Matrix[]{w.q(), w.k(), w.v()}, h, tokens, new float[][]{q, k, v}, model.compute());
        addBias(q, w.qBias());
        addBias(k, w.kBias());
        addBias(v, w.vBias());
        adapt(layer, LoraAdapter.Target.Q, h, q, rec);
        adapt(layer, LoraAdapter.Target.K, h, k, rec);
        adapt(layer, LoraAdapter.Target.V, h, v, rec);
        if (c.qkNorm()) {
            if (rec != null) {
                rec.qPreNorm = q.clone();
                rec.kPreNorm = k.clone();
            }
            rmsNorm(q, w.qNorm(), q, hd);
            rmsNorm(k, w.kNorm(), k, hd);
        }
        rope(q, heads);
        rope(k, kvHeads);
        hookHeads(HookPoint.of(layer, Kind.Q), q, heads);
        hookHeads(HookPoint.of(layer, Kind.K), k, kvHeads);
        hookHeads(HookPoint.of(layer, Kind.V), v, kvHeads);
        if (rec != null) {
            rec.q = q.clone();
            rec.k = k.clone();
            rec.v = v.clone();
        }

        // Append this call's keys and values to the cache: columns [start, start + columns).
        int start = cache.length();
        float[] keys = cache.keys[layer], values = cache.values[layer];
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < columns; col++)
                for (int g = 0; g < kvHeads; g++) {
                    int src = ((r * columns + col) * kvHeads + g) * hd;
                    System.arraycopy(k, src, keys, cache.offset(r, g, start + col), hd);
                    System.arraycopy(v, src, values, cache.offset(r, g, start + col), hd);
                }

        int keyColumns = start + columns;
        float[] z = ws.z;
        java.util.Arrays.fill(z, 0f);
        HookPoint patternPoint = HookPoint.of(layer, Kind.PATTERN);
        // The backward needs every probability too, so a recording call keeps them like a pattern hook does.
        boolean patternHooked = hooks.has(patternPoint) || rec != null;
        // Only a pattern hook needs every probability at once; otherwise each query row is used and dropped.
        float[] pattern = patternHooked ? new float[rows * heads * columns * keyColumns] : null;
        // Long calls (prefill, extraction, training) as matrix products; decode steps query by query.
        boolean blocked = Blas.useForRows(columns);
        ComputePool.get().parallelFor(rows * heads, task -> {
            int r = task / heads, head = task % heads;
            if (blocked) {
                attendBlocked(layer, q, r, head, keyColumns, z, pattern);
                return;
            }
            float[] probs = probabilities(keyColumns);
            for (int col = 0; col < columns; col++) {
                if (call.tokenIndex(r, col) < 0) continue;             // padding query: z stays zero
                attendRow(layer, q, r, head, col, keyColumns, probs);
                if (patternHooked) {
                    System.arraycopy(probs, 0, pattern, ((r * heads + head) * columns + col) * keyColumns, keyColumns);
                } else {
                    mixValues(values, probs, r, head, col, keyColumns, z);
                }
            }
        });
        if (patternHooked) {
            if (hooks.has(patternPoint)) {
                hooks.run(new HookTensor(patternPoint, pattern, call, columns, 0, heads, keyColumns,
                        heads * columns * keyColumns, keyColumns, columns * keyColumns, cache.paddingArray()));
            }
            if (rec != null) rec.probs = pattern;
            ComputePool.get().parallelFor(rows * heads, task -> {
                int r = task / heads, head = task % heads;
                if (blocked) {
                    mixBlocked(layer, pattern, r, head, keyColumns, z);
                    return;
                }
                float[] probs = probabilities(keyColumns);
                for (int col = 0; col < columns; col++) {
                    if (call.tokenIndex(r, col) < 0) continue;
                    System.arraycopy(pattern, ((r * heads + head) * columns + col) * keyColumns, probs, 0, keyColumns);
                    mixValues(values, probs, r, head, col, keyColumns, z);
                }
            });
        }
        hookHeads(HookPoint.of(layer, Kind.Z), z, heads);
        if (rec != null) rec.z = z.clone();
        linear(w.o(), w.oBias(), z, ws.attnOut);
        adapt(layer, LoraAdapter.Target.O, z, ws.attnOut, rec);
        return ws.attnOut;
    }

    /** Per-thread buffer for one query's attention probabilities, grown as the context grows. */
    private static final ThreadLocal<float[]> PROBS = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] probabilities(int n) {
        float[] p = PROBS.get();
        if (p.length < n) {
            p = new float[Math.max(n, 2 * p.length)];
            PROBS.set(p);
        }
        return p;
    }

    /** Softmax attention probabilities of one query over all key columns (masked ones zero). */
    private void attendRow(int layer, float[] q, int r, int head, int col, int keyColumns, float[] probs) {
        int hd = c.headDim(), g = head / c.groupSize();
        int qOff = ((r * columns + col) * c.heads() + head) * hd;
        int query = call.tokenIndex(r, col);
        int pad = cache.paddingArray()[r];
        float[] keys = cache.keys[layer];
        for (int j = 0; j < keyColumns; j++) {
            if (visible(layer, j - pad, query)) probs[j] = VectorMath.dot(q, qOff, keys, cache.offset(r, g, j), hd);
        }
        softmax(layer, r, col, keyColumns, probs, 0);
    }

    /** Whether a query at token {@code query} sees the key at token {@code key}: causal, not padding, in the window. */
    private boolean visible(int layer, int key, int query) {
        return key >= 0 && key <= query && (!c.isSliding(layer) || key > query - c.slidingWindow());
    }

    /**
     * Turns one query's raw dot products q.k ({@code p[off + j]} for key column j; read only where the key is
     * visible) into its softmax probabilities in place: scaled, soft-capped, masked keys zero.
     */
    private void softmax(int layer, int r, int col, int keyColumns, float[] p, int off) {
        int query = call.tokenIndex(r, col);
        int pad = cache.paddingArray()[r];
        float cap = c.attentionSoftcap();
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < keyColumns; j++) {
            if (!visible(layer, j - pad, query)) {
                p[off + j] = Float.NEGATIVE_INFINITY;
                continue;
            }
            float s = p[off + j] * c.attentionScale();
            if (cap > 0) s = cap * (float) Math.tanh(s / cap);
            p[off + j] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int j = 0; j < keyColumns; j++) {
            float e = p[off + j] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(p[off + j] - max);
            p[off + j] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < keyColumns; j++) p[off + j] *= inv;
    }

    /** Query rows per block of the blocked attention: bounds the score buffer (128 x keys floats per thread). */
    private static final int QUERY_BLOCK = 128;

    /**
     * Attention of one (row, head) over a long call as matrix products (OpenBLAS): scores = Q K^T for a block of
     * queries, the softmax row by row, then z = P V. Probabilities go to {@code pattern} when it is given (the
     * values are then mixed in a second pass, after the pattern hooks), else straight into z.
     */
    private void attendBlocked(int layer, float[] q, int r, int head, int keyColumns, float[] z, float[] pattern) {
        int hd = c.headDim(), heads = c.heads(), g = head / c.groupSize();
        MemorySegment keys = MemorySegment.ofArray(cache.keys[layer]).asSlice(4L * cache.offset(r, g, 0));
        MemorySegment values = MemorySegment.ofArray(cache.values[layer]).asSlice(4L * cache.offset(r, g, 0));
        for (int c0 = 0; c0 < columns; c0 += QUERY_BLOCK) {
            int n = Math.min(QUERY_BLOCK, columns - c0);
            float[] scores = probabilities(n * keyColumns);
            MemorySegment qs = MemorySegment.ofArray(q).asSlice(4L * ((r * columns + c0) * heads + head) * hd);
            Blas.sgemm(false, true, n, keyColumns, hd, qs, heads * hd, keys, hd, 0f, MemorySegment.ofArray(scores), keyColumns);
            for (int i = 0; i < n; i++) {
                if (call.tokenIndex(r, c0 + i) < 0) {                 // padding query: no probabilities, z stays zero
                    java.util.Arrays.fill(scores, i * keyColumns, (i + 1) * keyColumns, 0f);
                } else {
                    softmax(layer, r, c0 + i, keyColumns, scores, i * keyColumns);
                }
            }
            if (pattern != null) {
                System.arraycopy(scores, 0, pattern, ((r * heads + head) * columns + c0) * keyColumns, n * keyColumns);
            } else {
                MemorySegment zs = MemorySegment.ofArray(z).asSlice(4L * ((r * columns + c0) * heads + head) * hd);
                Blas.sgemm(false, false, n, hd, keyColumns, MemorySegment.ofArray(scores), keyColumns, values, hd, 0f, zs,
                        heads * hd);
            }
        }
    }

    /** z = P V for one (row, head) from the call's pattern (after the pattern hooks ran). */
    private void mixBlocked(int layer, float[] pattern, int r, int head, int keyColumns, float[] z) {
        int hd = c.headDim(), heads = c.heads(), g = head / c.groupSize();
        MemorySegment values = MemorySegment.ofArray(cache.values[layer]).asSlice(4L * cache.offset(r, g, 0));
        MemorySegment p = MemorySegment.ofArray(pattern).asSlice(4L * ((r * heads + head) * columns) * keyColumns);
        MemorySegment zs = MemorySegment.ofArray(z).asSlice(4L * (r * columns * heads + head) * hd);
        Blas.sgemm(false, false, columns, hd, keyColumns, p, keyColumns, values, hd, 0f, zs, heads * hd);
    }

    /** z[row, col, head] = sum_j probs[j] * value[j]. */
    private void mixValues(float[] values, float[] probs, int r, int head, int col, int keyColumns, float[] z) {
        int hd = c.headDim(), g = head / c.groupSize();
        int zOff = ((r * columns + col) * c.heads() + head) * hd;
        for (int j = 0; j < keyColumns; j++) {
            if (probs[j] != 0f) VectorMath.axpy(probs[j], values, cache.offset(r, g, j), z, zOff, hd);
        }
    }

    private float[] mlp(int layer, LayerWeights w, float[] h, TrainingTape.Block rec) {
        float[] gate = ws.gate, up = ws.up;
        Matrix.matmulAll(new Matrix[]{w.gate(), w.up()}, h, tokens, new float[][]{gate, up}, model.compute());
        addBias(gate, w.gateBias());
        addBias(up, w.upBias());
        adapt(layer, LoraAdapter.Target.GATE, h, gate, rec);
        adapt(layer, LoraAdapter.Target.UP, h, up, rec);
        if (rec != null) {
            rec.gate = gate.clone();
            rec.up = up.clone();
        }
        // Scalar Math.exp keeps results identical whether the JIT has compiled this or not; splitting the
        // elements over the pool keeps it from dominating prefill (60M activations for a 512-token prompt).
        Activation act = c.activation();
        int chunk = 8192, chunks = (gate.length + chunk - 1) / chunk;
        ComputePool.get().parallelFor(chunks, k -> {
            for (int i = k * chunk, end = Math.min(gate.length, i + chunk); i < end; i++) {
                gate[i] = act.apply(gate[i]) * up[i];
            }
        });
        linear(w.down(), w.downBias(), gate, ws.mlpOut);
        adapt(layer, LoraAdapter.Target.DOWN, gate, ws.mlpOut, rec);
        return ws.mlpOut;
    }

    private float[] unembed(float[] normed) {
        int d = c.dModel(), vocab = c.vocabSize();
        if (logitColumns == 0) return null;
        float[] input = normed;
        int positions = logitColumns;
        if (positions < columns) {
            input = ws.lastNormed(rows * positions * d);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(normed, (r * columns + columns - positions) * d, input, r * positions * d, positions * d);
            }
        }
        float[] logits = ws.logits(rows * positions * vocab);
        model.unembedding().matmul(input, rows * positions, logits, model.compute());
        float cap = c.finalSoftcap();
        if (cap > 0) {
            for (int i = 0; i < logits.length; i++) logits[i] = cap * (float) Math.tanh(logits[i] / cap);
        }
        HookPoint point = HookPoint.of(-1, Kind.LOGITS);
        if (hooks.has(point)) {
            hooks.run(new HookTensor(point, logits, call, positions, columns - positions, 1, vocab,
                    positions * vocab, vocab, 0, null));
        }
        return logits;
    }

    // ---- building blocks -------------------------------------------------------------------------------

    /** y = W x + b for every token of the call, into {@code y}. */
    private float[] linear(Matrix w, float[] bias, float[] x, float[] y) {
        w.matmul(x, tokens, y, model.compute());
        addBias(y, bias);
        return y;
    }

    /** Adds {@code bias} to every token's vector (nothing when there is no bias). */
    private void addBias(float[] y, float[] bias) {
        if (bias == null) return;
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < bias.length; i++) y[t * bias.length + i] += bias[i];
    }

    /** RMSNorm over consecutive groups of {@code width} values: x / rms(x) * (offset + w). */
    private void rmsNorm(float[] x, float[] weight, float[] out, int width) {
        float offset = c.normOffset();
        for (int base = 0; base < x.length; base += width) {
            double ss = 0;
            for (int i = 0; i < width; i++) ss += (double) x[base + i] * x[base + i];
            float inv = (float) (1.0 / Math.sqrt(ss / width + c.normEps()));
            for (int i = 0; i < width; i++) out[base + i] = x[base + i] * inv * (offset + weight[i]);
        }
    }

    /** Rotary embedding, rotate-half convention: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin). */
    private void rope(float[] x, int heads) {
        int hd = c.headDim(), half = hd / 2;
        for (int t = 0; t < tokens; t++) {
            int trig = t * half;
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * hd;
                for (int i = 0; i < half; i++) {
                    float x1 = x[base + i], x2 = x[base + half + i];
                    float co = ws.cos[trig + i], si = ws.sin[trig + i];
                    x[base + i] = x1 * co - x2 * si;
                    x[base + half + i] = x2 * co + x1 * si;
                }
            }
        }
    }

    /** Runs hooks at a [row, column, width] point, if any are registered there. */
    private void hook(HookPoint point, float[] values, int width) {
        if (hooks.has(point)) {
            hooks.run(new HookTensor(point, values, call, columns, 0, 1, width, columns * width, width, 0, null));
        }
    }

    /** Runs hooks at a [row, column, head, d_head] point, if any are registered there. */
    private void hookHeads(HookPoint point, float[] values, int heads) {
        if (hooks.has(point)) {
            int hd = c.headDim();
            hooks.run(new HookTensor(point, values, call, columns, 0, heads, hd, columns * heads * hd,
                    heads * hd, hd, null));
        }
    }
}
