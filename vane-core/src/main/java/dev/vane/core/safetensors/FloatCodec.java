package dev.vane.core.safetensors;

import dev.vane.core.tensor.BFloat16;
import dev.vane.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Converts between float32 and the little-endian F32 / BF16 / F16 bytes of safetensors files. */
final class FloatCodec {
    // Tensor offsets in a file need not be aligned to the element size, hence the unaligned layouts.
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FloatCodec() {
    }

    /** bfloat16 is the top half of a float32, so widening is exact. */
    static float bf16ToFloat(short bits) {
        return BFloat16.toFloat(bits);
    }

    /** Narrows to bfloat16, rounding to nearest even like PyTorch does. */
    static short floatToBf16(float value) {
        return BFloat16.fromFloat(value);
    }

    /** Reads {@code count} elements of {@code dtype} (F32, BF16 or F16) from {@code source} as floats. */
    static float[] decode(MemorySegment source, DType dtype, int count) {
        float[] out = new float[count];
        if (dtype == DType.F32) {
            MemorySegment.copy(source, F32_LE, 0, out, 0, count);
            return out;
        }
        short[] halves = new short[count];
        MemorySegment.copy(source, I16_LE, 0, halves, 0, count);
        for (int i = 0; i < count; i++) {
            out[i] = switch (dtype) {
                case BF16 -> bf16ToFloat(halves[i]);
                case F16 -> Float.float16ToFloat(halves[i]);
                default -> throw new IllegalArgumentException("not a float dtype the engine reads: " + dtype);
            };
        }
        return out;
    }

    /** Writes {@code values} into {@code destination} as {@code dtype} (F32, BF16 or F16), little-endian. */
    static void encode(float[] values, DType dtype, MemorySegment destination) {
        if (dtype == DType.F32) {
            MemorySegment.copy(values, 0, destination, F32_LE, 0, values.length);
            return;
        }
        short[] halves = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            halves[i] = switch (dtype) {
                case BF16 -> floatToBf16(values[i]);
                case F16 -> Float.floatToFloat16(values[i]);
                default -> throw new IllegalArgumentException("not a float dtype the engine reads: " + dtype);
            };
        }
        MemorySegment.copy(halves, 0, destination, I16_LE, 0, halves.length);
    }
}
