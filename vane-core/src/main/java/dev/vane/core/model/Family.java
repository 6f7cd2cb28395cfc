package dev.vane.core.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The model families Vane runs, by their {@code model_type} in config.json. */
public enum Family {
    LLAMA("llama"), MISTRAL("mistral"), QWEN2("qwen2"), QWEN3("qwen3"), GEMMA("gemma"), GEMMA2("gemma2");

    private final String modelType;

    Family(String modelType) {
        this.modelType = modelType;
    }

    /** The {@code model_type} string. */
    public String modelType() {
        return modelType;
    }

    boolean tiesEmbeddingsByDefault() {
        return this == GEMMA || this == GEMMA2;
    }

    /** The family for a {@code model_type}; an unknown one fails with the list of supported types. */
    public static Family fromModelType(String modelType) {
        return Arrays.stream(values()).filter(f -> f.modelType.equals(modelType)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model_type '" + modelType
                        + "' (supported: " + supported() + ")"));
    }

    /** Comma-separated list of supported {@code model_type} values. */
    public static String supported() {
        return Arrays.stream(values()).map(Family::modelType).collect(Collectors.joining(", "));
    }
}
