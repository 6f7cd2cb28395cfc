package dev.vane.core.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * bfloat16: the upper 16 bits of a float32 (same exponent range, 8 significant bits). Narrowing rounds to
 * nearest even as PyTorch does, so a product computed here on bf16 operands sees the values PyTorch's would.
 *
 * <pre>{@code
 * short bits = BFloat16.fromFloat(1.00390625f);   // 0x3F80: 1 + 2^-8 is a tie, rounded to even (1.0)
 * float back = BFloat16.toFloat(bits);            // 1.0f
 * }</pre>
 */
public final class BFloat16 {
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BFloat16() {
    }

    /** Widening is exact: the bits are the top half of the float. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows to bfloat16, rounding to nearest even. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            // Plain truncation could drop every payload bit and turn the NaN into infinity; force the quiet bit.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The float nearest to {@code value} that bfloat16 can hold. */
    public static float round(float value) {
        return toFloat(fromFloat(value));
    }

    /** Rounds {@code a[from..from+n)} to bfloat16 values in place. */
    static void round(float[] a, int from, int n) {
        for (int i = from; i < from + n; i++) a[i] = round(a[i]);
    }

    /** Writes {@code src[off..off+n)} as little-endian bfloat16 into {@code dst} from byte {@code dstByte}. */
    static void encode(float[] src, int off, int n, MemorySegment dst, long dstByte) {
        for (int i = 0; i < n; i++) dst.set(I16_LE, dstByte + 2L * i, fromFloat(src[off + i]));
    }
}
