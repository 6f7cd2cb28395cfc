package dev.vane.core.tensor;

import java.util.Locale;

/**
 * The precision of the engine's large matrix products (32 tokens or more: prefill, extraction, training), held
 * per model ({@code Model.withCompute}); a model loads with the process's default ({@link #byDefault()}), which
 * the command line's {@code --compute} sets. Decoding, attention, norms and the weight gradients stay float32.
 *
 * <pre>{@code
 * Model fast = model.withCompute(Compute.BF16);   // same weights, bf16 products
 * Compute.setDefault(Compute.parse("bf16"));      // every model loaded from now on
 * }</pre>
 */
public enum Compute {
    /** Float32 products: the reference, matching PyTorch's float32 results to float rounding (the default). */
    F32,
    /**
     * Activations rounded to bf16, weights bf16 as stored (float32 and float16 weights rounded), products
     * summed in float32: what PyTorch does for a bf16 model on CPU. Through oneDNN ({@link Dnnl}), fast on CPUs
     * with AVX512_BF16 or AMX; where oneDNN is not loaded the same arithmetic runs in Java.
     */
    BF16;

    private static volatile Compute chosen;      // null: as the environment says

    /**
     * The precision models get when they are loaded: what {@link #setDefault} chose, else {@code VANE_COMPUTE}
     * (or {@code -Dvane.compute}), else {@link #F32}.
     */
    public static Compute byDefault() {
        Compute c = chosen;
        if (c != null) return c;
        String p = System.getProperty("vane.compute");
        String setting = p != null ? p : System.getenv("VANE_COMPUTE");
        return setting == null || setting.isBlank() ? F32 : parse(setting);
    }

    /** Sets the precision of models loaded from now on in this process; {@code null} goes back to the environment's. */
    public static void setDefault(Compute compute) {
        chosen = compute;
    }

    /** {@code f32} or {@code bf16}, any case. */
    public static Compute parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("compute must be f32 or bf16, not '" + name + "'");
        }
    }

    /** The lower-case name, as the command line spells it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
