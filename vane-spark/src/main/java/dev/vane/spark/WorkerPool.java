package dev.vane.spark;

import dev.vane.lab.distribute.Worker;
import dev.vane.lab.distribute.WorkerFactory;
import dev.vane.lab.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The workers of an executor JVM, kept between tasks: a task borrows an idle worker of its job (or builds one, the
 * first time: that is when the model is loaded, through {@link dev.vane.lab.distribute.ModelSetup#load()}, once per
 * JVM) and gives it back when done, so an executor running several tasks at once never shares a worker's state
 * (an evaluation's prompt cache) between two of them.
 */
final class WorkerPool {
    private record Job(String factory, String setup) { }

    private static final Map<Job, Queue<Worker>> IDLE = new ConcurrentHashMap<>();

    private WorkerPool() {
    }

    static Worker borrow(String factory, String setup) {
        Worker idle = IDLE.computeIfAbsent(new Job(factory, setup), k -> new ConcurrentLinkedQueue<>()).poll();
        return idle != null ? idle : create(factory, setup);
    }

    static void giveBack(String factory, String setup, Worker worker) {
        IDLE.get(new Job(factory, setup)).add(worker);
    }

    private static Worker create(String factory, String setup) {
        try {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            Class<?> type = Class.forName(factory, true, loader != null ? loader : WorkerPool.class.getClassLoader());
            WorkerFactory f = (WorkerFactory) type.getDeclaredConstructor().newInstance();
            return f.create(RunDirectory.JSON.readTree(setup));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make the worker factory " + factory + " on this executor (is Vane on its "
                    + "class path?): " + e, e);
        }
    }
}
