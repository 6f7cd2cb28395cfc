package dev.vane.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * Run in a fresh JVM by {@link MatrixTest#matmulIsReproducibleAcrossJitWarmUp}: computes one product before and
 * after the JIT has compiled the kernel and exits 0 when the two are bit-identical, 1 when they differ.
 */
public final class MatmulReproducibilityProbe {
    private MatmulReproducibilityProbe() {
    }

    public static void main(String[] args) {
        int rows = 64, cols = 256, tokens = 4;
        Random random = new Random(1);
        MemorySegment seg = Arena.ofAuto().allocate(4L * rows * cols);
        for (int i = 0; i < rows * cols; i++) {
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, random.nextFloat() * 2 - 1);
        }
        Matrix m = new Matrix(DType.F32, seg, rows, cols);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = random.nextFloat() * 2 - 1;

        float[] cold = new float[tokens * rows];
        m.matmul(x, tokens, cold);                       // first call: interpreted Vector API fallback
        float[] warm = new float[tokens * rows];
        for (int i = 0; i < 20_000; i++) m.matmul(x, tokens, warm);   // until C2 has compiled the kernel
        int differing = 0;
        for (int i = 0; i < cold.length; i++) if (Float.floatToRawIntBits(cold[i]) != Float.floatToRawIntBits(warm[i])) differing++;
        System.out.println("differing outputs: " + differing + " of " + cold.length
                + (differing > 0 ? " e.g. " + Arrays.toString(Arrays.copyOf(cold, 3)) + " vs " + Arrays.toString(Arrays.copyOf(warm, 3)) : ""));
        System.exit(differing == 0 ? 0 : 1);
    }
}
