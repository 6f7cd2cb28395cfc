package dev.vane.lab.bench;

import dev.vane.core.tensor.ComputePool;

/**
 * The machine's memory bandwidth by a STREAM-style triad, {@code a[i] = b[i] + s * c[i]} over arrays far
 * larger than the caches, split over the compute pool's threads. STREAM counts 24 bytes per element (two
 * reads, one write). The best of several passes is reported, as STREAM does.
 *
 * <pre>{@code
 * double gbPerSecond = MemoryBandwidth.triad(1 << 25, 5);
 * }</pre>
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {
    }

    /** GB/s (10^9 bytes) of the fastest of {@code passes} triads over {@code n} doubles per array. */
    public static double triad(int n, int passes) {
        double[] a = new double[n], b = new double[n], c = new double[n];
        java.util.Arrays.fill(b, 1.0);
        java.util.Arrays.fill(c, 2.0);
        int chunks = ComputePool.get().threads();
        double best = Double.MAX_VALUE;
        for (int pass = 0; pass <= passes; pass++) {
            long start = System.nanoTime();
            ComputePool.get().parallelFor(chunks, k -> {
                int from = (int) ((long) n * k / chunks), to = (int) ((long) n * (k + 1) / chunks);
                for (int i = from; i < to; i++) a[i] = b[i] + 3.0 * c[i];
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            if (pass > 0) best = Math.min(best, seconds);       // the first pass only warms up
        }
        if (a[n - 1] != 7.0) throw new IllegalStateException("triad computed a wrong value");
        return 24.0 * n / best / 1e9;
    }
}
