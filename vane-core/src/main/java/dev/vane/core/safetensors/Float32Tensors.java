package dev.vane.core.safetensors;

import dev.vane.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Float32 copies, in native memory, of every tensor of another source: the master weights of a full
 * fine-tune. A model loaded over them ({@code Model.load(dir, Float32Tensors.copyOf(source))}) reads the
 * copies, so writing into {@link #segment} changes what the model computes.
 *
 * <pre>{@code
 * Float32Tensors master = Float32Tensors.copyOf(TensorSource.open(dir));
 * Model model = Model.load(dir, master);
 * MemorySegment.copy(updated, 0, master.segment(name), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, updated.length);
 * }</pre>
 */
public final class Float32Tensors implements TensorSource {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final Path path;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, MemorySegment> segments = new LinkedHashMap<>();
    private final TensorSource source;

    private Float32Tensors(TensorSource source) {
        this.source = source;
        this.path = source.path();
    }

    /** Copies every float tensor of {@code source} as float32; this object closes {@code source} with itself. */
    public static Float32Tensors copyOf(TensorSource source) {
        Float32Tensors t = new Float32Tensors(source);
        for (String name : source.names()) {
            TensorInfo info = source.info(name);
            if (!info.dtype().isEngineFloat()) continue;
            long count = info.elementCount();
            MemorySegment seg = t.arena.allocate(count * 4, 64);
            MemorySegment from = source.segment(name);
            switch (info.dtype()) {
                case F32 -> MemorySegment.copy(from, 0, seg, 0, count * 4);
                case BF16, F16 -> {
                    ValueLayout.OfShort s16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                    boolean bf = info.dtype() == DType.BF16;
                    for (long i = 0; i < count; i++) {
                        short v = from.get(s16, 2 * i);
                        seg.set(F32_LE, 4 * i, bf ? Float.intBitsToFloat(v << 16) : Float.float16ToFloat(v));
                    }
                }
                default -> throw new IllegalStateException(info.dtype().toString());
            }
            t.infos.put(name, new TensorInfo(name, DType.F32, info.shape(), 0, count * 4));
            t.segments.put(name, seg);
        }
        return t;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(new TreeSet<>(infos.keySet()));
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) throw new dev.vane.core.InvalidInputException(path, "no tensor named '" + name + "'");
        return info;
    }

    @Override
    public MemorySegment segment(String name) {
        info(name);
        return segments.get(name);
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
        source.close();
    }
}
