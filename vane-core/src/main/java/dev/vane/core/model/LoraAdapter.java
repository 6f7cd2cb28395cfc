package dev.vane.core.model;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.FloatGemm;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * A LoRA adapter: for each targeted linear layer W of a block, low-rank factors A [rank, in] and B [out, rank]
 * whose product is added at run time, {@code y = W x + (alpha / rank) B A x} (Hu et al. 2021; PEFT's
 * convention). The base weights are never touched, so an adapter costs rank x (in + out) floats per target
 * and several adapters, or an adapter and steering vectors, combine on one model.
 *
 * <pre>{@code
 * LoraAdapter lora = LoraAdapter.create(model.config(), 8, 16f, 0f, EnumSet.of(Target.Q, Target.V), new Random(0));
 * Model tuned = model.withAdapters(List.of(lora));     // shares the mapped weights
 * ForwardResult out = tuned.forward(Batch.of(ids), Hooks.none());
 * }</pre>
 *
 * <p>The factors are plain float arrays that the trainer updates in place; a model view built with
 * {@link Model#withAdapters} sees every update.
 */
public final class LoraAdapter {
    /** The linear layers an adapter can target, named as in PEFT's {@code target_modules}. */
    public enum Target {
        Q("self_attn", "q_proj"), K("self_attn", "k_proj"), V("self_attn", "v_proj"), O("self_attn", "o_proj"),
        GATE("mlp", "gate_proj"), UP("mlp", "up_proj"), DOWN("mlp", "down_proj");

        private final String parent;
        private final String module;

        Target(String parent, String module) {
            this.parent = parent;
            this.module = module;
        }

        /** PEFT's module name, e.g. {@code q_proj}. */
        public String module() {
            return module;
        }

        /** The module path inside a block, e.g. {@code self_attn.q_proj}. */
        public String path() {
            return parent + "." + module;
        }

        /** Parses a short name ({@code q}, {@code gate}) or a module name ({@code q_proj}). */
        public static Target parse(String name) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (Target t : values()) {
                if (n.equals(t.name().toLowerCase(Locale.ROOT)) || n.equals(t.module)) return t;
            }
            throw new InvalidInputException("unknown LoRA target '" + name + "' (known: q, k, v, o, gate, up, down, "
                    + "or their module names q_proj ... down_proj)");
        }

        /** Input width of this layer in a model of {@code c}. */
        public int in(ModelConfig c) {
            return switch (this) {
                case O -> c.heads() * c.headDim();
                case DOWN -> c.dFf();
                default -> c.dModel();
            };
        }

        /** Output width of this layer in a model of {@code c}. */
        public int out(ModelConfig c) {
            return switch (this) {
                case Q -> c.heads() * c.headDim();
                case K, V -> c.kvHeads() * c.headDim();
                case O, DOWN -> c.dModel();
                case GATE, UP -> c.dFf();
            };
        }
    }

    private final ModelConfig config;
    private final int rank;
    private final float alpha;
    private final float dropout;
    private final Set<Target> targets;
    /** [layer][target ordinal]: A as [rank, in] and B as [out, rank], null where not targeted. */
    private final float[][][] a;
    private final float[][][] b;

    private LoraAdapter(ModelConfig config, int rank, float alpha, float dropout, Set<Target> targets) {
        if (rank <= 0) throw new InvalidInputException("LoRA rank must be positive, got " + rank);
        if (!(alpha > 0)) throw new InvalidInputException("LoRA alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new InvalidInputException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        if (targets.isEmpty()) throw new InvalidInputException("a LoRA adapter needs at least one target");
        this.config = config;
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.targets = Set.copyOf(targets);
        this.a = new float[config.layers()][Target.values().length][];
        this.b = new float[config.layers()][Target.values().length][];
    }

    /**
     * A fresh adapter initialised as PEFT does: A uniform in +-1/sqrt(in) (Kaiming-uniform with a = sqrt(5)),
     * B zero, so the adapted model starts exactly at the base model.
     */
    public static LoraAdapter create(ModelConfig config, int rank, float alpha, float dropout, Set<Target> targets,
                                     Random random) {
        LoraAdapter lora = new LoraAdapter(config, rank, alpha, dropout, targets);
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : EnumSet.copyOf(targets)) {
                int in = t.in(config);
                float bound = (float) (1.0 / Math.sqrt(in));
                float[] fa = new float[rank * in];
                for (int i = 0; i < fa.length; i++) fa[i] = (2 * random.nextFloat() - 1) * bound;
                lora.a[l][t.ordinal()] = fa;
                lora.b[l][t.ordinal()] = new float[t.out(config) * rank];
            }
        }
        return lora;
    }

    /** An adapter with all factors zero, to be filled with {@link #setA}/{@link #setB} (reading a file). */
    public static LoraAdapter empty(ModelConfig config, int rank, float alpha, float dropout, Set<Target> targets) {
        LoraAdapter lora = new LoraAdapter(config, rank, alpha, dropout, targets);
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : targets) {
                lora.a[l][t.ordinal()] = new float[rank * t.in(config)];
                lora.b[l][t.ordinal()] = new float[t.out(config) * rank];
            }
        }
        return lora;
    }

    public ModelConfig config() {
        return config;
    }

    public int rank() {
        return rank;
    }

    public float alpha() {
        return alpha;
    }

    public float dropout() {
        return dropout;
    }

    /** alpha / rank, the factor of the low-rank term. */
    public float scale() {
        return alpha / rank;
    }

    public Set<Target> targets() {
        return targets;
    }

    public boolean has(int layer, Target target) {
        return a[layer][target.ordinal()] != null;
    }

    /** A of one layer's target, [rank, in] row-major; the live array (updates are seen by every forward). */
    public float[] a(int layer, Target target) {
        return a[layer][target.ordinal()];
    }

    /** B of one layer's target, [out, rank] row-major; the live array. */
    public float[] b(int layer, Target target) {
        return b[layer][target.ordinal()];
    }

    /** Copies values into A of one layer's target (length rank x in). */
    public void setA(int layer, Target target, float[] values) {
        copyInto(a, layer, target, values, rank * target.in(config), "lora_A");
    }

    /** Copies values into B of one layer's target (length out x rank). */
    public void setB(int layer, Target target, float[] values) {
        copyInto(b, layer, target, values, target.out(config) * rank, "lora_B");
    }

    private void copyInto(float[][][] slot, int layer, Target target, float[] values, int size, String what) {
        float[] dst = slot[layer][target.ordinal()];
        if (dst == null) throw new IllegalArgumentException("layer " + layer + " " + target + " is not targeted");
        if (values.length != size) {
            throw new InvalidInputException(what + " of layer " + layer + " " + target.module() + " has " + values.length
                    + " values, expected " + size);
        }
        System.arraycopy(values, 0, dst, 0, size);
    }

    /** Number of trainable values. */
    public long parameterCount() {
        long n = 0;
        for (float[][] layer : a) for (float[] f : layer) if (f != null) n += f.length;
        for (float[][] layer : b) for (float[] f : layer) if (f != null) n += f.length;
        return n;
    }

    /** The low-rank input {@code u = x A^T} [tokens, rank] of one target for inputs x [tokens, in]. */
    public float[] down(int layer, Target target, float[] x, int tokens) {
        float[] u = new float[tokens * rank];
        FloatGemm.nt(x, a(layer, target), tokens, rank, target.in(config), u, false);
        return u;
    }

    /** {@code y += scale * u B^T} for u = {@link #down}: the adapter's contribution to the layer's output. */
    public void up(int layer, Target target, float[] u, int tokens, float[] y) {
        int out = target.out(config);
        float[] delta = new float[tokens * out];
        FloatGemm.nt(u, b(layer, target), tokens, out, rank, delta, false);
        float s = scale();
        for (int i = 0; i < delta.length; i++) y[i] += s * delta[i];
    }
}
