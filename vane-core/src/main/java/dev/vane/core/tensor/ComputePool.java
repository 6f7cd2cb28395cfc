package dev.vane.core.tensor;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that the kernels split their work over: {@code parallelFor(n, body)} runs
 * {@code body(i)} for every chunk i in [0, n), chunks dealt out in contiguous ranges, the calling thread doing
 * the first range. A fixed pool keeps the thread count a setting ({@code --threads}) and the partitioning
 * deterministic; the hand-off costs a few microseconds, far below one matrix product. Bodies must not call
 * {@code parallelFor} themselves (the workers would wait on each other).
 *
 * <pre>{@code
 * ComputePool.setThreads(2);
 * ComputePool.get().parallelFor(rows, r -> out[r] = dot(r));
 * }</pre>
 */
public final class ComputePool {
    private static volatile ComputePool shared = new ComputePool(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final ExecutorService workers;

    private ComputePool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = this.threads == 1 ? null : Executors.newFixedThreadPool(this.threads - 1, r -> {
            Thread t = new Thread(r, "vane-compute");
            t.setDaemon(true);
            return t;
        });
    }

    /** The pool the engine uses. */
    public static ComputePool get() {
        return shared;
    }

    /** Replaces the shared pool with one of {@code threads} threads (the caller counts as one). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (shared.threads == threads) return;
        ComputePool old = shared;
        shared = new ComputePool(threads);
        if (old.workers != null) old.workers.shutdown();
    }

    /** Number of threads, the caller included. */
    public int threads() {
        return threads;
    }

    /** Runs {@code body} for every index in [0, n), split into one contiguous range per thread. */
    public void parallelFor(int n, IntConsumer body) {
        int parts = Math.min(threads, n);
        if (parts <= 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            workers.execute(() -> {
                try {
                    for (int i = from; i < to; i++) body.accept(i);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        int end = (int) ((long) n / parts);
        try {
            for (int i = 0; i < end; i++) body.accept(i);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);     // still wait: workers may be writing the caller's arrays
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for workers", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }
}
