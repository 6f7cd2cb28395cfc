package dev.vane.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A native buffer per thread, grown as needed and reused by every call on that thread: native libraries get
 * working memory without an allocation (and fresh pages to fault in) per call. One instance per use, so two uses
 * on the same thread never share a buffer.
 *
 * <pre>{@code
 * static final NativeScratch WEIGHTS = new NativeScratch();
 * MemorySegment buf = WEIGHTS.get(2L * rows * cols);   // at least that many bytes, 64-byte aligned
 * }</pre>
 */
final class NativeScratch {
    private final ThreadLocal<MemorySegment> buffers = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    /** This thread's buffer, at least {@code bytes} long (freed by the GC once the thread or a larger one replaces it). */
    MemorySegment get(long bytes) {
        MemorySegment s = buffers.get();
        if (s.byteSize() < bytes) {
            s = Arena.ofAuto().allocate(Math.max(bytes, s.byteSize() * 5 / 4), 64);
            buffers.set(s);
        }
        return s;
    }
}
