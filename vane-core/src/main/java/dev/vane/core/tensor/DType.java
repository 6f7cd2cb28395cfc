package dev.vane.core.tensor;

import java.util.Arrays;
import java.util.Optional;

/**
 * Element types as spelled in safetensors headers. Vane computes with {@link #F32}, {@link #BF16} and
 * {@link #F16} weights; the others are known so that any valid file can be opened and validated.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2),
    I64(8), I32(4), I16(2), I8(1),
    U64(8), U32(4), U16(2), U8(1),
    BOOL(1), F8_E4M3(1), F8_E5M2(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types the engine reads weights in. */
    public boolean isEngineFloat() {
        return this == F32 || this == BF16 || this == F16;
    }

    /** The dtype for a safetensors header string such as {@code "BF16"}, if known. */
    public static Optional<DType> fromHeader(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }
}
