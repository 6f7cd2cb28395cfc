package dev.vane.train.grad;

import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.ModelConfig;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Where a backward pass puts its gradients, and which ones it computes: model parameters by their Hugging Face
 * names ({@code model.layers.0.self_attn.q_proj.weight}), one LoRA adapter's factors, and the inputs (the
 * embeddings the first block sees, hence the one-hot token inputs). Parameter gradients accumulate over calls
 * (gradient accumulation); input gradients belong to the last call.
 *
 * <pre>{@code
 * Gradients g = Gradients.parameters(name -> name.endsWith("q_proj.weight")).withInputs();
 * double loss = Backward.run(model, tape, positions, objective, g);
 * float[] dq = g.parameter("model.layers.0.self_attn.q_proj.weight");
 * }</pre>
 */
public final class Gradients {
    private final Predicate<String> parameters;
    private LoraAdapter adapter;
    private boolean inputs;
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private float[][][] loraA;
    private float[][][] loraB;
    private float[] inputsEmbeds;

    private Gradients(Predicate<String> parameters, LoraAdapter adapter) {
        this.parameters = parameters;
        this.adapter = adapter;
    }

    /** Gradients of the model parameters whose Hugging Face names {@code wanted} accepts. */
    public static Gradients parameters(Predicate<String> wanted) {
        return new Gradients(wanted, null);
    }

    /** Gradients of every model parameter (full fine-tuning). */
    public static Gradients allParameters() {
        return new Gradients(name -> true, null);
    }

    /** Gradients of one adapter's factors only; the adapter must be among the model's adapters. */
    public static Gradients adapter(LoraAdapter adapter) {
        return new Gradients(name -> false, null).withAdapter(adapter);
    }

    /** Also computes the gradients of one adapter's factors (the adapter must be among the model's adapters). */
    public Gradients withAdapter(LoraAdapter adapter) {
        this.adapter = adapter;
        ModelConfig c = adapter.config();
        loraA = new float[c.layers()][Target.values().length][];
        loraB = new float[c.layers()][Target.values().length][];
        return this;
    }

    /** No parameter gradients: only the inputs' (what GCG needs). */
    public static Gradients inputsOnly() {
        return new Gradients(name -> false, null).withInputs();
    }

    /** Also computes the gradient of the inputs (embeddings and one-hot tokens). */
    public Gradients withInputs() {
        this.inputs = true;
        return this;
    }

    public boolean wantsInputs() {
        return inputs;
    }

    /** Whether the model parameter of this Hugging Face name gets a gradient. */
    public boolean wants(String name) {
        return parameters.test(name);
    }

    /** The accumulator of a wanted parameter, allocated (zero) on first use. */
    public float[] accumulator(String name, int size) {
        return values.computeIfAbsent(name, n -> new float[size]);
    }

    /** The gradient of a model parameter, or null when none was computed. */
    public float[] parameter(String name) {
        return values.get(name);
    }

    /** Every model parameter gradient computed so far, by Hugging Face name. */
    public Map<String, float[]> parameters() {
        return Collections.unmodifiableMap(values);
    }

    /** The adapter whose factors get gradients, or null. */
    public LoraAdapter adapter() {
        return adapter;
    }

    /** Accumulator of dL/dA for one layer's target of the trained adapter ([rank, in]). */
    public float[] loraA(int layer, Target target) {
        float[] a = loraA[layer][target.ordinal()];
        if (a == null) a = loraA[layer][target.ordinal()] = new float[adapter.a(layer, target).length];
        return a;
    }

    /** Accumulator of dL/dB for one layer's target of the trained adapter ([out, rank]). */
    public float[] loraB(int layer, Target target) {
        float[] b = loraB[layer][target.ordinal()];
        if (b == null) b = loraB[layer][target.ordinal()] = new float[adapter.b(layer, target).length];
        return b;
    }

    /** dL/d inputs_embeds of the last call, [tokens, d_model] (before any embedding scale), or null. */
    public float[] inputsEmbeds() {
        return inputsEmbeds;
    }

    void inputsEmbeds(float[] values) {
        this.inputsEmbeds = values;
    }
}
