package dev.vane.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Weight matrices as the engine finds them in a safetensors mapping, for the kernel tests. */
final class StoredWeights {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private StoredWeights() {
    }

    /** {@code n} values uniform in [-1, 1), the same for the same seed. */
    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    /** {@code w} stored as {@code dtype} (little-endian); {@code w} is overwritten with the stored, rounded values. */
    static MemorySegment store(DType dtype, float[] w) {
        MemorySegment seg = Arena.ofAuto().allocate((long) w.length * dtype.byteSize());
        for (int i = 0; i < w.length; i++) {
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32_LE, i, w[i]);
                case BF16 -> {
                    short bits = BFloat16.fromFloat(w[i]);
                    seg.setAtIndex(I16_LE, i, bits);
                    w[i] = BFloat16.toFloat(bits);
                }
                case F16 -> {
                    short bits = Float.floatToFloat16(w[i]);
                    seg.setAtIndex(I16_LE, i, bits);
                    w[i] = Float.float16ToFloat(bits);
                }
                default -> throw new IllegalArgumentException("no test storage for " + dtype);
            }
        }
        return seg;
    }
}
