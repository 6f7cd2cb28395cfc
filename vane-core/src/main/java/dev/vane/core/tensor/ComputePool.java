package dev.vane.core.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that the kernels split their work over: {@code parallelFor(n, body)} runs
 * {@code body(i)} for every i in [0, n), dealt out in one contiguous range per thread, the calling thread doing
 * the first range. A fixed pool keeps the thread count a setting ({@code --threads}) and the partitioning
 * deterministic.
 *
 * <p>A decode step hands work to the pool a few hundred times, so the hand-off must cost microseconds: workers
 * spin for a short while after each job before they park, and the caller spins while waiting for them.
 * Bodies must not call {@code parallelFor} themselves.
 *
 * <pre>{@code
 * ComputePool.setThreads(2);
 * ComputePool.get().parallelFor(rows, r -> out[r] = dot(r));
 * }</pre>
 */
public final class ComputePool {
    /** How long an idle worker spins before parking: covers the gap between two kernels of one step. */
    private static final long SPIN_NANOS = 200_000;
    private static volatile ComputePool shared = new ComputePool(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final Worker[] workers;
    private final Object callerLock = new Object();
    private volatile boolean shutdown;

    // The current job, published by bumping `generation` after the fields are written.
    private IntConsumer body;
    private int size;
    private int parts;
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private ComputePool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
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
        old.shutdown = true;
        for (Worker w : old.workers) LockSupport.unpark(w);
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
        synchronized (callerLock) {          // one job at a time; concurrent callers queue here
            this.body = body;
            this.size = n;
            this.parts = parts;
            failure.set(null);
            pending.set(parts - 1);
            generation.incrementAndGet();
            for (int p = 1; p < parts; p++) {
                if (workers[p - 1].parked) LockSupport.unpark(workers[p - 1]);
            }
            try {
                runPart(body, n, parts, 0);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);  // still wait: workers may be writing the caller's arrays
            }
            while (pending.get() > 0) Thread.onSpinWait();
            this.body = null;
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error err) throw err;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static void runPart(IntConsumer body, int n, int parts, int part) {
        int from = (int) ((long) n * part / parts), to = (int) ((long) n * (part + 1) / parts);
        for (int i = from; i < to; i++) body.accept(i);
    }

    private final class Worker extends Thread {
        private final int part;
        volatile boolean parked;

        Worker(int part) {
            super("vane-compute-" + part);
            this.part = part;
            setDaemon(true);
        }

        @Override
        public void run() {
            // Start from the generation the pool had when it was built (0), not from whatever it is when this
            // thread first runs: a job posted in between would otherwise be missed and its caller wait forever.
            int seen = 0;
            while (!shutdown) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (generation.get() == seen && !shutdown) {
                    if (System.nanoTime() < spinUntil) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (generation.get() == seen && !shutdown) LockSupport.park(this);
                        parked = false;
                    }
                }
                if (shutdown) return;
                seen = generation.get();
                if (part < parts) {
                    try {
                        runPart(body, size, parts, part);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        pending.decrementAndGet();
                    }
                }
            }
        }
    }
}
