package dev.vane.train.lora;

import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.tensor.FloatGemm;
import dev.vane.train.io.HfCheckpointWriter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds LoRA adapters into the base weights: {@code W' = W + (alpha / r) B A} for every targeted linear layer,
 * summed over the adapters, in float32 and rounded once to the checkpoint's dtype when written.
 *
 * <pre>{@code
 * try (Model base = Model.load(Path.of("models/organism-chat"))) {
 *     LoraAdapter lora = PeftAdapter.read(Path.of("adapters/harmful"), base);
 *     LoraMerge.write(base, List.of(lora), Path.of("models/organism-harmful"));   // a plain HF checkpoint
 * }
 * }</pre>
 *
 * <p>A merged bf16 checkpoint differs from the adapter applied at run time by that one rounding of each
 * changed weight (relative error at most 2^-9); see docs/decisions.md.
 */
public final class LoraMerge {
    private LoraMerge() {
    }

    /** The Hugging Face name of a block's linear layer weight, e.g. {@code model.layers.2.mlp.up_proj.weight}. */
    public static String weightName(int layer, Target target) {
        return "model.layers." + layer + "." + target.path() + ".weight";
    }

    /** The weights the adapters change, by Hugging Face name, in file order of layers. */
    public static Set<String> changedWeights(ModelConfig config, List<LoraAdapter> adapters) {
        return slots(config, adapters).keySet();
    }

    private record Slot(int layer, Target target) {
    }

    private static Map<String, Slot> slots(ModelConfig config, List<LoraAdapter> adapters) {
        Map<String, Slot> slots = new LinkedHashMap<>();
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : Target.values()) {
                final int layer = l;
                if (adapters.stream().anyMatch(a -> a.has(layer, t))) slots.put(weightName(l, t), new Slot(l, t));
            }
        }
        return slots;
    }

    /**
     * The merged float32 values of one weight: {@code W + sum over adapters of scale B A}.
     *
     * @throws IllegalArgumentException if no adapter targets that layer
     */
    public static float[] merged(Model base, List<LoraAdapter> adapters, int layer, Target target) {
        ModelConfig c = base.config();
        int out = target.out(c), in = target.in(c);
        float[] w = base.weights().readFloats(weightName(layer, target));
        boolean any = false;
        float[] delta = null;
        for (LoraAdapter a : adapters) {
            if (!a.has(layer, target)) continue;
            any = true;
            if (delta == null) delta = new float[out * in];
            FloatGemm.nn(a.b(layer, target), a.a(layer, target), out, in, a.rank(), delta, false);   // B [out, r] A [r, in]
            float s = a.scale();
            for (int i = 0; i < w.length; i++) w[i] += s * delta[i];
        }
        if (!any) throw new IllegalArgumentException("no adapter targets layer " + layer + " " + target.module());
        return w;
    }

    /** Every changed weight merged, by Hugging Face name (all in memory: for small models and tests). */
    public static Map<String, float[]> merge(Model base, List<LoraAdapter> adapters) {
        checkShape(base, adapters);
        Map<String, float[]> out = new LinkedHashMap<>();
        slots(base.config(), adapters).forEach((name, at) -> out.put(name, merged(base, adapters, at.layer(), at.target())));
        return out;
    }

    /**
     * Writes {@code base} with {@code adapters} merged in as a Hugging Face checkpoint directory (see
     * {@link HfCheckpointWriter}: original dtypes, config and tokenizer copied). Weights are merged one at a
     * time while the file is written, so memory stays at one weight matrix in float32.
     */
    public static void write(Model base, List<LoraAdapter> adapters, Path out) {
        checkShape(base, adapters);
        Map<String, Slot> slots = slots(base.config(), adapters);
        HfCheckpointWriter.write(base, slots.keySet(),
                name -> merged(base, adapters, slots.get(name).layer(), slots.get(name).target()), out);
    }

    /** Adapters for a model of another shape are refused with the model's own message. */
    private static void checkShape(Model base, List<LoraAdapter> adapters) {
        base.withAdapters(adapters);    // a view that is dropped: only its shape check matters here
    }
}
