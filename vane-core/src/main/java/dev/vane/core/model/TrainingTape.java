package dev.vane.core.model;

import dev.vane.core.hook.CallLayout;
import dev.vane.core.hook.Hooks;

import java.util.SplittableRandom;

/**
 * What a training forward keeps so that a backward pass can undo it: each block's input and internals (the
 * values each step consumed), the RoPE rotation and the final norm's input and output. Arrays follow the
 * forward's layout, [row, column, features] over the whole call.
 *
 * <p>With {@code checkpoint} on, only each block's input is kept and {@link #block} recomputes a block's
 * internals when the backward reaches it: one block's worth of memory instead of all of them, for one more
 * forward's worth of compute (activation checkpointing). Hooks run again in a recomputation.
 *
 * <pre>{@code
 * TrainingTape tape = new TrainingTape(false, 1234L);
 * model.forwardForTraining(Batch.of(ids), Hooks.none(), tape);
 * float[] normed = tape.finalNormed();         // [tokens, d_model], input of the unembedding
 * TrainingTape.Block last = tape.block(model.config().layers() - 1);
 * }</pre>
 */
public final class TrainingTape {
    /** One block's recorded values; all arrays are copies owned by the tape. */
    public static final class Block {
        /** Input of the block (after resid_pre hooks). */
        public float[] residPre;
        /** Output of the attention norm: input of q, k, v. */
        public float[] normed1;
        /** q and k after bias and adapters, before the q/k norm (Qwen3 only; else null). */
        public float[] qPreNorm, kPreNorm;
        /** q, k, v as attention used them: after norm, RoPE and hooks. */
        public float[] q, k, v;
        /** Attention probabilities [row, head, query column, key column] as used (after pattern hooks). */
        public float[] probs;
        /** o_proj input (after z hooks). */
        public float[] z;
        /** o_proj output after attn_out hooks: input of the post-attention norm where there is one. */
        public float[] attnOut;
        /** Residual after the attention add (after resid_mid hooks): input of the MLP norm. */
        public float[] residMid;
        /** Output of the MLP norm: input of gate and up. */
        public float[] normed2;
        /** gate and up projections (after bias and adapters), before the activation. */
        public float[] gate, up;
        /** down_proj output after mlp_out hooks: input of the post-MLP norm where there is one. */
        public float[] mlpOut;
        /** Dropped-out adapter inputs [adapter][target ordinal]; null where the adapter has no dropout. */
        public float[][][] loraInputs;

        void loraInput(int adapter, LoraAdapter.Target target, float[] input) {
            if (loraInputs == null) loraInputs = new float[8][][];
            if (adapter >= loraInputs.length) loraInputs = java.util.Arrays.copyOf(loraInputs, adapter + 1);
            if (loraInputs[adapter] == null) loraInputs[adapter] = new float[LoraAdapter.Target.values().length][];
            loraInputs[adapter][target.ordinal()] = input;
        }

        /** The adapter's input of a target as the forward saw it (dropped out), or null when it saw {@code x}. */
        public float[] loraInput(int adapter, LoraAdapter.Target target) {
            if (loraInputs == null || adapter >= loraInputs.length || loraInputs[adapter] == null) return null;
            return loraInputs[adapter][target.ordinal()];
        }
    }

    private final boolean checkpoint;
    private final long seed;
    private Model model;
    private Batch batch;
    private Hooks hooks;
    private CallLayout call;
    private int rows;
    private int columns;
    private float[] cos;
    private float[] sin;
    private Block[] blocks;
    float[] finalResid;
    float[] finalNormed;

    /**
     * @param checkpoint keep only block inputs and recompute the rest in the backward
     * @param seed       seed of the adapters' dropout masks (the same masks again when a block is recomputed)
     */
    public TrainingTape(boolean checkpoint, long seed) {
        this.checkpoint = checkpoint;
        this.seed = seed;
    }

    void attach(Model model, Batch batch, Hooks hooks) {
        this.model = model;
        this.batch = batch;
        this.hooks = hooks;
        this.blocks = new Block[model.config().layers()];
    }

    void begin(CallLayout call, int rows, int columns) {
        if (this.call == null) {
            this.call = call;
            this.rows = rows;
            this.columns = columns;
        }
    }

    void rotation(float[] cos, float[] sin) {
        if (this.cos == null) {
            this.cos = cos;
            this.sin = sin;
        }
    }

    /** Starts recording block l from its input; returns where to record its internals, or null when not. */
    Block startBlock(int l, float[] x, boolean recordInternals) {
        Block b = blocks[l];
        if (b == null) {
            b = new Block();
            b.residPre = x.clone();
            blocks[l] = b;
        }
        return recordInternals ? b : null;
    }

    float[] residPre(int l) {
        return blocks[l].residPre;
    }

    /** x with each value zeroed with probability p and the rest scaled by 1/(1-p), the same for a given slot. */
    float[] dropout(float[] x, float p, int layer, LoraAdapter.Target target, int adapter) {
        float[] out = dropoutScales(x.length, p, layer, target, adapter);
        for (int i = 0; i < x.length; i++) out[i] *= x[i];
        return out;
    }

    /**
     * The dropout factors (0 or 1/(1-p)) this tape applies to one adapter's input of one layer's target: the
     * same for a given slot and seed, so the backward, and a recomputed block, see the forward's mask.
     */
    public float[] dropoutScales(int n, float p, int layer, LoraAdapter.Target target, int adapter) {
        SplittableRandom random = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (1 + layer * 64L
                + target.ordinal() * 8L + adapter)));
        float keep = 1f / (1f - p);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = random.nextDouble() < p ? 0f : keep;
        return out;
    }

    /**
     * Block {@code l}'s recorded values; a checkpointed tape recomputes them first (and {@link #release} frees
     * them again once the backward is done with the block).
     */
    public Block block(int l) {
        Block b = blocks[l];
        if (b == null) throw new IllegalStateException("the forward has not reached block " + l);
        if (b.normed1 == null) {
            KvCache cache = model.newCache(rows, columns);
            new ForwardPass(model, batch, hooks, cache, LogitsMode.NONE, this, true).recompute(l);
        }
        return b;
    }

    /** Drops a checkpointed block's recomputed internals, keeping only its input. */
    public void release(int l) {
        if (!checkpoint) return;
        Block b = blocks[l];
        Block kept = new Block();
        kept.residPre = b.residPre;
        blocks[l] = kept;
    }

    public boolean checkpoint() {
        return checkpoint;
    }

    public CallLayout call() {
        return call;
    }

    public int rows() {
        return rows;
    }

    public int columns() {
        return columns;
    }

    /** cos of every (row, column, frequency): [tokens, head_dim / 2]. */
    public float[] cos() {
        return cos;
    }

    public float[] sin() {
        return sin;
    }

    /** Input of the final norm [tokens, d_model]. */
    public float[] finalResid() {
        return finalResid;
    }

    /** Output of the final norm (after its hooks) [tokens, d_model]: the unembedding's input. */
    public float[] finalNormed() {
        return finalNormed;
    }

    /** The batch this tape recorded. */
    public Batch batch() {
        return batch;
    }
}
