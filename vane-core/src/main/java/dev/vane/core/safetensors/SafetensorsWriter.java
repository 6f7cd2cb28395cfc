package dev.vane.core.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Builds a safetensors file: tensors are laid out in insertion order, the header is space-padded to a
 * multiple of 8 bytes (as the Python library does), and the file appears atomically or not at all.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .metadata("method", "caa")
 *     .add("blocks.13.hook_resid_post", DType.F32, new long[]{4096}, vector)
 *     .addRaw("w", DType.BF16, new long[]{2, 3}, twelveBytes)
 *     .add("big", DType.BF16, new long[]{32000, 32768}, dst -> randomFill(dst))   // streamed, never on the heap
 *     .write(Path.of("steer.safetensors"));
 * }</pre>
 *
 * <p>Adding is cheap; data is produced during {@link #write}, so a writer can be written more than once.
 */
public final class SafetensorsWriter {

    /** Produces a tensor's bytes directly into the output file. */
    @FunctionalInterface
    public interface Filler {
        /**
         * Writes the tensor's little-endian bytes.
         *
         * @param destination a writable mapped slice of the output file, exactly the tensor's size
         */
        void fill(MemorySegment destination);
    }

    private record Entry(String name, DType dtype, long[] shape, long byteSize, Filler filler) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Adds float values stored as {@code dtype}: F32 as is, BF16 rounded to nearest even, F16 via
     * {@link Float#floatToFloat16}. The array is copied.
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        if (!dtype.isEngineFloat()) {
            throw new IllegalArgumentException("tensor '" + name + "': floats can be stored as F32, BF16 or F16, not " + dtype);
        }
        float[] copy = values.clone();
        checkCount(name, shape, copy.length);
        return add(name, dtype, shape, destination -> FloatCodec.encode(copy, dtype, destination));
    }

    /** Adds bytes exactly as given (little-endian element data); the array is copied. */
    public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] bytes) {
        return addRaw(name, dtype, shape, MemorySegment.ofArray(bytes.clone()));
    }

    /** Adds bytes exactly as given; the segment is read during {@link #write}, so keep it alive until then. */
    public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, MemorySegment bytes) {
        long needed = byteSize(name, dtype, shape);
        if (bytes.byteSize() != needed) {
            throw new IllegalArgumentException("tensor '" + name + "': " + bytes.byteSize() + " bytes but shape "
                    + Arrays.toString(shape) + " x " + dtype + " needs " + needed);
        }
        return add(name, dtype, shape, destination -> destination.copyFrom(bytes));
    }

    /** Adds a tensor whose bytes {@code filler} writes straight into the output file, for very large tensors. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, Filler filler) {
        Objects.requireNonNull(filler, "filler");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
        }
        if (entries.stream().anyMatch(e -> e.name().equals(name))) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        entries.add(new Entry(name, dtype, shape.clone(), byteSize(name, dtype, shape), filler));
        return this;
    }

    private static long byteSize(String name, DType dtype, long[] shape) {
        long bytes = dtype.byteSize();
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            }
            bytes = Math.multiplyExact(bytes, dim);
        }
        return bytes;
    }

    private static void checkCount(String name, long[] shape, int count) {
        long expected = 1;
        for (long dim : shape) {
            expected = Math.multiplyExact(expected, dim);
        }
        if (expected != count) {
            throw new IllegalArgumentException("tensor '" + name + "': " + count + " values but shape "
                    + Arrays.toString(shape) + " needs " + expected);
        }
    }

    /**
     * {@link #write} after creating the file's folder, failing as {@link dev.vane.core.InvalidInputException} naming
     * the file: how the files users ask for (vectors, probes) are written.
     */
    public void writeCreatingFolder(Path path) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) java.nio.file.Files.createDirectories(parent);
            write(path);
        } catch (IOException e) {
            throw new dev.vane.core.InvalidInputException("cannot write " + path + ": " + e.getMessage());
        }
    }

    /**
     * Writes the file, replacing any existing one. Data goes to a temporary file in the same directory
     * that is then renamed over {@code path}, so readers never see a half-written file.
     */
    public void write(Path path) throws IOException {
        Path target = path.toAbsolutePath();
        byte[] header = header();
        long dataSize = entries.stream().mapToLong(Entry::byteSize).sum();
        long dataStart = 8L + header.length;
        // Not Files.createTempFile: its 0600 permissions would carry over to the final file.
        Path temp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(header.length).put(header).flip();
                while (head.hasRemaining()) {
                    channel.write(head);
                }
                if (dataSize > 0) {
                    writeData(channel, dataStart, dataSize);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp); // only still there if something failed
        }
    }

    private void writeData(FileChannel channel, long dataStart, long dataSize) throws IOException {
        // Mapping grows the file to full size (sparse until filled), so fillers can stream gigabytes cheaply.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = channel.map(FileChannel.MapMode.READ_WRITE, dataStart, dataSize, arena);
            long offset = 0;
            for (Entry entry : entries) {
                if (entry.byteSize() > 0) {
                    entry.filler().fill(data.asSlice(offset, entry.byteSize()));
                }
                offset += entry.byteSize();
            }
            data.force();
        }
    }

    /** The JSON header, padded with spaces so the data section starts 8-byte aligned. */
    private byte[] header() {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry entry : entries) {
            ObjectNode tensor = root.putObject(entry.name());
            tensor.put("dtype", entry.dtype().name());
            ArrayNode shape = tensor.putArray("shape");
            Arrays.stream(entry.shape()).forEach(shape::add);
            tensor.putArray("data_offsets").add(offset).add(offset + entry.byteSize());
            offset += entry.byteSize();
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }
}
