package dev.vane.lab.bench;

import dev.vane.core.tensor.Blas;
import dev.vane.core.tensor.Compute;
import dev.vane.core.tensor.ComputePool;
import dev.vane.core.tensor.DType;
import dev.vane.core.tensor.Dnnl;
import dev.vane.core.tensor.Matrix;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.DoubleSupplier;

/**
 * How close the engine's matrix products come to what this machine's matrix units give: the library's own rate
 * on a large square float32 product (OpenBLAS sgemm 1024^3 - the attainable peak, since OpenBLAS's kernels are
 * hand-written for the CPU) beside the engine's product of a model weight (bf16, 512 tokens) with its kernels as
 * chosen and with the pure-Java ones, and the same product in bf16 through oneDNN (with whether the CPU has bf16
 * units, without which oneDNN emulates them). GFLOP/s count 2 m n k; each figure is the best of a few repetitions.
 *
 * <pre>{@code
 * GemmRate r = GemmRate.measure(model.layer(0).up(), 512);
 * System.out.printf("%.1f of %.1f GFLOP/s%n", r.engineGflops(), r.libraryGflops());
 * }</pre>
 *
 * @param kernels        which kernels the engine uses ({@link Blas#status()})
 * @param libraryGflops  OpenBLAS sgemm on 1024 x 1024 x 1024 float32 (NaN when it is not loaded)
 * @param engineGflops   {@code Matrix.matmul} of the weight with the chosen kernels
 * @param javaGflops     the same with the pure-Java kernels
 * @param product        the engine product measured, e.g. "[4864 x 896] BF16 x 512 tokens"
 * @param bf16Gflops     the same product in {@link Compute#BF16} through oneDNN (NaN when it is not loaded)
 * @param bf16Kernels    oneDNN and the implementation it picked, or why it is not loaded
 * @param cpuBf16        the CPU's bf16 units ({@link CpuBf16})
 */
public record GemmRate(String kernels, double libraryGflops, double engineGflops, double javaGflops, String product,
                       double bf16Gflops, String bf16Kernels, String cpuBf16) {
    private static final int REPEATS = 5;

    /** Measures with the compute pool as it is set. */
    public static GemmRate measure(Matrix weight, int tokens) {
        float[] x = new float[tokens * weight.cols()];
        for (int i = 0; i < x.length; i++) x[i] = (i % 13) * 0.01f - 0.06f;
        float[] y = new float[tokens * weight.rows()];
        double flops = 2.0 * tokens * weight.rows() * weight.cols();
        double engine = best(flops, () -> {
            long t0 = System.nanoTime();
            weight.matmul(x, tokens, y, Compute.F32);
            return System.nanoTime() - t0;
        });
        double java;
        Blas.choose(Blas.Use.NEVER);
        try {
            java = best(flops, () -> {
                long t0 = System.nanoTime();
                weight.matmul(x, tokens, y);
                return System.nanoTime() - t0;
            });
        } finally {
            Blas.choose(null);
        }
        String product = "[" + weight.rows() + " x " + weight.cols() + "] " + weight.dtype() + " x " + tokens + " tokens";
        double bf16 = Double.NaN;
        String bf16Kernels = Dnnl.status();
        if (Dnnl.enabled()) {
            Dnnl.choose(Dnnl.Use.ALWAYS);       // oneDNN's rate, also where the engine would emulate bf16
            try {
                bf16 = best(flops, () -> {
                    long t0 = System.nanoTime();
                    weight.matmul(x, tokens, y, Compute.BF16);
                    return System.nanoTime() - t0;
                });
            } finally {
                Dnnl.choose(null);
            }
            int share = (weight.rows() + ComputePool.get().threads() - 1) / ComputePool.get().threads();
            bf16Kernels += ", " + Dnnl.implementation(tokens, share, weight.cols(), DType.BF16, DType.BF16);
        }
        return new GemmRate(Blas.status(), library(), engine, java, product, bf16, bf16Kernels, CpuBf16.describe());
    }

    /** OpenBLAS on one thread per pool thread, as the engine calls it, over a square 1024^3 product. */
    private static double library() {
        if (!Blas.enabled()) return Double.NaN;
        int n = 1024;
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        Arrays.fill(a, 0.5f);
        Arrays.fill(b, 0.25f);
        int parts = ComputePool.get().threads();
        return best(2.0 * n * n * n, () -> {
            long t0 = System.nanoTime();
            ComputePool.get().parallelFor(parts, p -> {
                int from = n * p / parts, to = n * (p + 1) / parts;
                Blas.sgemm(false, true, to - from, n, n, MemorySegment.ofArray(a).asSlice(4L * from * n), n,
                        MemorySegment.ofArray(b), n, 0f, MemorySegment.ofArray(c).asSlice(4L * from * n), n);
            });
            return System.nanoTime() - t0;
        });
    }

    /** GFLOP/s of the fastest of the repetitions after one warm-up. */
    private static double best(double flops, DoubleSupplier nanos) {
        nanos.getAsDouble();
        double min = Double.MAX_VALUE;
        for (int i = 0; i < REPEATS; i++) min = Math.min(min, nanos.getAsDouble());
        return flops / min;
    }
}
