package dev.vane.core.tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * oneDNN primitives by shape, at most {@code capacity}, least recently used dropped first. A primitive dropped
 * while another thread still runs it is destroyed when that thread hands it back, not before.
 *
 * <pre>{@code
 * try (PrimitiveCache.Lease lease = cache.acquire(shape, api::create)) {
 *     run(lease.primitive());
 * }
 * }</pre>
 */
final class PrimitiveCache {
    private final Consumer<Dnnl.Primitive> destroy;
    private final Map<Dnnl.Shape, Entry> entries;

    private static final class Entry {
        final Dnnl.Primitive primitive;
        int users;
        boolean dropped;

        Entry(Dnnl.Primitive primitive) {
            this.primitive = primitive;
        }
    }

    /** A primitive in use; closing it hands it back. */
    final class Lease implements AutoCloseable {
        private final Entry entry;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        Dnnl.Primitive primitive() {
            return entry.primitive;
        }

        @Override
        public void close() {
            synchronized (PrimitiveCache.this) {
                if (--entry.users == 0 && entry.dropped) destroy.accept(entry.primitive);
            }
        }
    }

    PrimitiveCache(int capacity, Consumer<Dnnl.Primitive> destroy) {
        this.destroy = destroy;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Dnnl.Shape, PrimitiveCache.Entry> eldest) {
                if (size() <= capacity) return false;
                PrimitiveCache.Entry e = eldest.getValue();
                e.dropped = true;
                if (e.users == 0) destroy.accept(e.primitive);
                return true;
            }
        };
    }

    /**
     * The primitive for {@code shape}, created by {@code create} if not kept. Creation holds the lock: threads
     * splitting one product want the same shape at once, and it should be compiled once.
     */
    synchronized Lease acquire(Dnnl.Shape shape, Function<Dnnl.Shape, Dnnl.Primitive> create) {
        Entry e = entries.get(shape);
        if (e == null) {
            e = new Entry(create.apply(shape));
            e.users++;                  // before insertion, which may drop the eldest
            entries.put(shape, e);
        } else {
            e.users++;
        }
        return new Lease(e);
    }

    /** How many shapes are kept. */
    synchronized int size() {
        return entries.size();
    }
}
