package dev.vane.core.model;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.safetensors.SafetensorsCheckpoint;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.safetensors.TensorSource;
import dev.vane.core.tensor.Compute;
import dev.vane.core.tensor.Matrix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A causal language model loaded from a Hugging Face checkpoint directory, with weights memory-mapped in
 * their on-disk dtype. A model holds no per-call state: hooks and KV caches belong to each call, so one
 * model can serve concurrent calls.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("fixtures/hf/llama2"))) {
 *     ForwardResult out = model.forward(Batch.of(new int[]{1, 306, 339}), new Hooks());
 *     float[] next = out.lastLogits(0);
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    private final Path directory;
    private final ModelConfig config;
    private final TensorSource weights;
    private final Matrix embedding;
    private final Matrix unembedding;
    private final float[] finalNorm;
    private final LayerWeights[] layers;
    private final float[] inverseFrequencies;
    /** LoRA adapters whose low-rank terms every forward adds (empty for the base model). */
    private final List<LoraAdapter> adapters;
    /** The precision of the large matrix products ({@link Compute#byDefault()} at load). */
    private final Compute compute;

    private Model(Path directory, ModelConfig config, TensorSource weights) {
        this.adapters = List.of();
        this.compute = Compute.byDefault();
        this.directory = directory;
        this.config = config;
        this.weights = weights;
        int d = config.dModel();
        this.embedding = matrix("model.embed_tokens.weight", config.vocabSize(), d);
        this.unembedding = config.tiedEmbeddings() && !weights.contains("lm_head.weight") ? embedding
                : matrix("lm_head.weight", config.vocabSize(), d);
        this.finalNorm = vector("model.norm.weight", d);
        requireLayerCount();
        this.layers = new LayerWeights[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = loadLayer(l);
        }
        // transformers keeps the frequencies in float32; rounding them the same way keeps long positions faithful.
        double[] inv = config.ropeScaling().inverseFrequencies(config.ropeTheta(), config.headDim());
        this.inverseFrequencies = new float[inv.length];
        for (int i = 0; i < inv.length; i++) inverseFrequencies[i] = (float) inv[i];
    }

    /** A view of {@code base} with other adapters or precision: shares the mapped weights and every float array. */
    private Model(Model base, List<LoraAdapter> adapters, Compute compute) {
        this.directory = base.directory;
        this.config = base.config;
        this.weights = base.weights;
        this.embedding = base.embedding;
        this.unembedding = base.unembedding;
        this.finalNorm = base.finalNorm;
        this.layers = base.layers;
        this.inverseFrequencies = base.inverseFrequencies;
        this.adapters = List.copyOf(adapters);
        this.compute = compute;
    }

    /**
     * Loads a checkpoint directory: config.json plus model.safetensors or a sharded index. Every tensor the
     * forward pass uses is checked against the config's shapes before anything runs.
     */
    public static Model load(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new InvalidInputException(directory, "not a model directory");
        }
        return load(directory, SafetensorsCheckpoint.open(directory));
    }

    /**
     * A model of the config.json in {@code directory} over other weights, e.g. float32 copies in memory that a
     * full fine-tune updates in place. The model owns {@code weights} and closes them.
     */
    public static Model load(Path directory, TensorSource weights) {
        ModelConfig config;
        try {
            config = ModelConfig.read(directory);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
        try {
            return new Model(directory, config, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** The checkpoint holds exactly the blocks config.json counts (checked before anything per layer is made). */
    private void requireLayerCount() {
        int n = config.layers();
        boolean last = weights.contains("model.layers." + (n - 1) + ".input_layernorm.weight");
        boolean beyond = weights.contains("model.layers." + n + ".input_layernorm.weight");
        if (last && !beyond) return;
        int present = 0;
        while (weights.contains("model.layers." + present + ".input_layernorm.weight")) present++;
        throw new InvalidInputException(directory, "config.json says num_hidden_layers = " + n
                + " but the checkpoint holds " + present + " decoder layers");
    }

    private LayerWeights loadLayer(int l) {
        ModelConfig c = config;
        String p = "model.layers." + l + ".";
        int d = c.dModel(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim(), ff = c.dFf();
        boolean sandwich = c.sandwichNorms();
        return new LayerWeights(
                vector(p + "input_layernorm.weight", d),
                matrix(p + "self_attn.q_proj.weight", q, d),
                matrix(p + "self_attn.k_proj.weight", kv, d),
                matrix(p + "self_attn.v_proj.weight", kv, d),
                matrix(p + "self_attn.o_proj.weight", d, q),
                c.qkvBias() ? vector(p + "self_attn.q_proj.bias", q) : null,
                c.qkvBias() ? vector(p + "self_attn.k_proj.bias", kv) : null,
                c.qkvBias() ? vector(p + "self_attn.v_proj.bias", kv) : null,
                c.outputBias() ? vector(p + "self_attn.o_proj.bias", d) : null,
                c.qkNorm() ? vector(p + "self_attn.q_norm.weight", c.headDim()) : null,
                c.qkNorm() ? vector(p + "self_attn.k_norm.weight", c.headDim()) : null,
                sandwich ? vector(p + "post_attention_layernorm.weight", d) : null,
                vector(p + (sandwich ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), d),
                matrix(p + "mlp.gate_proj.weight", ff, d),
                matrix(p + "mlp.up_proj.weight", ff, d),
                matrix(p + "mlp.down_proj.weight", d, ff),
                c.mlpBias() ? vector(p + "mlp.gate_proj.bias", ff) : null,
                c.mlpBias() ? vector(p + "mlp.up_proj.bias", ff) : null,
                c.mlpBias() ? vector(p + "mlp.down_proj.bias", d) : null,
                sandwich ? vector(p + "post_feedforward_layernorm.weight", d) : null);
    }

    private TensorInfo checked(String name, long... shape) {
        if (!weights.contains(name)) {
            throw new InvalidInputException(directory, "missing tensor '" + name + "' (needed by a "
                    + config.family().modelType() + " model with this config.json)");
        }
        TensorInfo info = weights.info(name);
        if (!info.dtype().isEngineFloat()) {
            throw new InvalidInputException(directory, "tensor '" + name + "' has dtype " + info.dtype()
                    + "; weights must be F32, BF16 or F16");
        }
        if (!Arrays.equals(info.shape(), shape)) {
            throw new InvalidInputException(directory, "tensor '" + name + "' has shape "
                    + Arrays.toString(info.shape()) + " but config.json implies " + Arrays.toString(shape)
                    + " (hidden_size " + config.dModel() + ", " + config.heads() + " heads, "
                    + config.kvHeads() + " kv heads, head_dim " + config.headDim() + ", intermediate_size "
                    + config.dFf() + ", vocab_size " + config.vocabSize() + ")");
        }
        return info;
    }

    private Matrix matrix(String name, int rows, int cols) {
        TensorInfo info = checked(name, rows, cols);
        return new Matrix(info.dtype(), weights.segment(name), rows, cols);
    }

    private float[] vector(String name, int length) {
        checked(name, length);
        return weights.readFloats(name);
    }

    /** A KV cache for {@code rows} sequences of up to {@code capacity} tokens. */
    public KvCache newCache(int rows, int capacity) {
        return new KvCache(config, rows, capacity);
    }

    /** Runs the batch from scratch with all logits. */
    public ForwardResult forward(Batch batch, Hooks hooks) {
        return forward(batch, hooks, newCache(batch.rows(), batch.columns()), LogitsMode.ALL);
    }

    /** Runs the batch, continuing the sequences in {@code cache} (which the call extends). */
    public ForwardResult forward(Batch batch, Hooks hooks, KvCache cache, LogitsMode logits) {
        return new ForwardPass(this, batch, hooks, cache, logits).run();
    }

    /**
     * Runs the batch like {@link #forward(Batch, Hooks, KvCache, LogitsMode)} with logits for the last
     * {@code lastColumns} columns of each row only: scoring a continuation of a few tokens (an answer, a GCG
     * target) without a [columns, vocab] product per row. Read them with {@link ForwardResult#tailLogits}.
     *
     * <pre>{@code
     * ForwardResult out = model.forward(Batch.of(seqs), hooks, cache, target.length);
     * FloatTensor scored = out.tailLogits(0, target.length);      // [target, vocab]
     * }</pre>
     */
    public ForwardResult forward(Batch batch, Hooks hooks, KvCache cache, int lastColumns) {
        if (lastColumns < 1) throw new IllegalArgumentException("lastColumns must be >= 1, got " + lastColumns);
        return new ForwardPass(this, batch, hooks, cache, lastColumns).run();
    }

    /**
     * A training forward: runs the batch from scratch with {@code hooks} (edits stay active) and records in
     * {@code tape} what the backward pass needs. No logits are computed: the loss takes the tape's final normed
     * values at the positions it scores.
     *
     * <pre>{@code
     * TrainingTape tape = new TrainingTape(false, seed);
     * model.forwardForTraining(Batch.of(ids), Hooks.none(), tape);
     * }</pre>
     */
    public void forwardForTraining(Batch batch, Hooks hooks, TrainingTape tape) {
        tape.attach(this, batch, hooks);
        new ForwardPass(this, batch, hooks, newCache(batch.rows(), batch.columns()), LogitsMode.NONE, tape,
                !tape.checkpoint()).run();
    }

    public ModelConfig config() {
        return config;
    }

    /** The checkpoint directory. */
    public Path directory() {
        return directory;
    }

    /**
     * This model with {@code adapters} added at run time (replacing any it had): a view sharing the mapped
     * weights, so it costs only the adapters' factors. Closing either closes the weights of both.
     *
     * <pre>{@code
     * Model tuned = model.withAdapters(List.of(PeftAdapter.read(dir, model)));
     * }</pre>
     *
     * @throws InvalidInputException if an adapter was made for a model of another shape
     */
    public Model withAdapters(List<LoraAdapter> adapters) {
        for (LoraAdapter a : adapters) {
            ModelConfig o = a.config();
            if (o.layers() != config.layers() || o.dModel() != config.dModel() || o.dFf() != config.dFf()
                    || o.heads() != config.heads() || o.kvHeads() != config.kvHeads() || o.headDim() != config.headDim()) {
                throw new InvalidInputException("adapter made for a model of another shape (" + o.layers() + " layers, "
                        + "hidden " + o.dModel() + ") cannot be applied to " + directory + " (" + config.layers()
                        + " layers, hidden " + config.dModel() + ")");
            }
        }
        return new Model(this, adapters, compute);
    }

    /**
     * This model computing its large matrix products (32 tokens or more: prefill, extraction, training) in
     * {@code compute}: a view sharing the mapped weights and adapters. {@link Compute#F32} (the default unless
     * {@link Compute#setDefault} or VANE_COMPUTE say otherwise) matches PyTorch's float32 results;
     * {@link Compute#BF16} is what PyTorch does for a bf16 model on CPU.
     *
     * <pre>{@code
     * Model fast = Model.load(dir).withCompute(Compute.BF16);
     * }</pre>
     */
    public Model withCompute(Compute compute) {
        return compute == this.compute ? this : new Model(this, adapters, compute);
    }

    /** The precision of this model's large matrix products. */
    public Compute compute() {
        return compute;
    }

    /** The adapters every forward of this model adds; empty for a plain checkpoint. */
    public List<LoraAdapter> adapters() {
        return adapters;
    }

    /** The token embedding matrix [vocab, d_model] (before any embedding scale). */
    public Matrix embedding() {
        return embedding;
    }

    /** The unembedding matrix [vocab, d_model]; the embedding itself when they are tied. */
    public Matrix unembedding() {
        return unembedding;
    }

    /** The final norm's weight [d_model]: the live array. */
    public float[] finalNorm() {
        return finalNorm;
    }

    /** Block {@code l}'s weights. Norm weights and biases are live arrays. */
    public LayerWeights layer(int l) {
        return layers[l];
    }

    /** RoPE inverse frequencies [head_dim / 2] in float32, scaling applied. */
    public float[] inverseFrequencies() {
        return inverseFrequencies;
    }

    /** The weights this model reads. */
    public TensorSource weights() {
        return weights;
    }

    /** Bytes of weights read for one token (every matrix once; the embedding row is negligible). */
    public long weightBytesPerToken() {
        long total = unembedding.byteSize();
        for (LayerWeights w : layers) {
            total += w.q().byteSize() + w.k().byteSize() + w.v().byteSize() + w.o().byteSize()
                    + w.gate().byteSize() + w.up().byteSize() + w.down().byteSize();
        }
        return total;
    }

    /** Unmaps the weights; the model must not be used afterwards. */
    @Override
    public void close() {
        weights.close();
    }
}
