package dev.vane.core.model;

/** The MLP's gate activation. */
public enum Activation {
    /** x * sigmoid(x): Llama, Mistral, Qwen. */
    SILU,
    /** GELU with the tanh approximation (PyTorch's {@code gelu_pytorch_tanh}): Gemma. */
    GELU_TANH;

    static Activation fromConfig(String name, String modelType) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu_pytorch_tanh", "gelu_tanh", "gelu_new", "gelu_fast" -> GELU_TANH;
            // Gemma checkpoints say "gelu" but transformers runs them with the tanh approximation.
            case "gelu" -> modelType.startsWith("gemma") ? GELU_TANH : unsupported(name);
            default -> unsupported(name);
        };
    }

    private static Activation unsupported(String name) {
        throw new IllegalArgumentException("hidden activation '" + name
                + "' is not supported (supported: silu, gelu_pytorch_tanh)");
    }

    /** Applies the activation to one value. */
    public float apply(float x) {
        return switch (this) {
            case SILU -> x / (1f + (float) Math.exp(-x));
            case GELU_TANH -> {
                double c = Math.sqrt(2.0 / Math.PI);
                yield (float) (0.5 * x * (1.0 + Math.tanh(c * (x + 0.044715 * x * x * x))));
            }
        };
    }
}
