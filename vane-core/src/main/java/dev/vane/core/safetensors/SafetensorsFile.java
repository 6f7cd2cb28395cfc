package dev.vane.core.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One safetensors file, memory-mapped read-only. The header is fully validated on {@link #open}; tensor data
 * is never copied to the heap (except by {@link #readFloats}). Files over 2 GB are fine.
 *
 * <pre>{@code
 * try (SafetensorsFile file = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     TensorInfo info = file.info("model.norm.weight");
 *     MemorySegment bytes = file.segment("model.norm.weight");
 *     String format = file.metadata().get("format");
 * }
 * }</pre>
 */
public final class SafetensorsFile implements TensorSource {
    /** Real headers are a few MB at most; the cap stops a hostile length from costing memory. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    static final JsonMapper JSON = JsonMapper.builder()
            // A repeated tensor name would otherwise silently shadow the first one.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final SortedMap<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapped,
                            SortedMap<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws InvalidInputException if the file is missing or is not a well-formed safetensors file
     * @throws UncheckedIOException  on other I/O failures
     */
    public static SafetensorsFile open(Path path) {
        // Shared so the model can read weights from several threads.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped = map(path, arena);
            Header header = parseHeader(path, mapped);
            return new SafetensorsFile(path, arena, mapped, header.tensors(), header.metadata());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static MemorySegment map(Path path, Arena arena) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new InvalidInputException(path, "file is too short to be safetensors (" + size + " bytes)");
            }
            // The mapping outlives the channel; it is released when the arena closes.
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(path, "file does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private record Header(SortedMap<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path path, MemorySegment file) {
        long fileSize = file.byteSize();
        long headerLength = file.get(U64_LE, 0); // unsigned in the format: a negative long is simply huge
        if (Long.compareUnsigned(headerLength, fileSize - 8) > 0) {
            throw new InvalidInputException(path, "header length " + Long.toUnsignedString(headerLength)
                    + " runs past the end of the file (" + fileSize + " bytes)");
        }
        if (headerLength == 0) {
            throw new InvalidInputException(path, "header length is 0");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new InvalidInputException(path, "header length " + headerLength + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        }
        JsonNode root = readJson(path, file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, String> metadata = Map.of();
        SortedMap<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                metadata = readMetadata(path, field.getValue());
            } else {
                TensorInfo info = readTensor(path, field.getKey(), field.getValue(), dataStart, dataSize);
                tensors.put(info.name(), info);
            }
        }
        checkNoOverlap(path, tensors.values(), dataStart);
        return new Header(Collections.unmodifiableSortedMap(tensors), metadata);
    }

    private static JsonNode readJson(Path path, byte[] bytes) {
        String text;
        try {
            // Decode strictly: a lenient decoder would turn bad bytes into U+FFFD inside tensor names.
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(path, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new InvalidInputException(path, "header is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new InvalidInputException(path, "header is not JSON: it is blank");
        }
        if (!root.isObject()) {
            throw new InvalidInputException(path, "header is not a JSON object but " + describe(root));
        }
        return root;
    }

    private static Map<String, String> readMetadata(Path path, JsonNode node) {
        if (!node.isObject()) {
            throw new InvalidInputException(path, "__metadata__ is not an object but " + describe(node));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new InvalidInputException(path, "__metadata__ value for '" + entry.getKey()
                        + "' is not a string but " + describe(entry.getValue()));
            }
            metadata.put(entry.getKey(), entry.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo readTensor(Path path, String name, JsonNode node, long dataStart, long dataSize) {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw new InvalidInputException(path, where + "entry is not an object but " + describe(node));
        }
        JsonNode dtypeNode = node.path("dtype");
        if (!dtypeNode.isTextual()) {
            throw new InvalidInputException(path, where + "dtype is missing or not a string");
        }
        DType dtype = DType.fromHeader(dtypeNode.textValue()).orElseThrow(() ->
                new InvalidInputException(path, where + "unknown dtype '" + dtypeNode.textValue() + "'"));
        long[] shape = readLongs(path, where + "shape", node.path("shape"), -1);
        long[] offsets = readLongs(path, where + "data_offsets", node.path("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new InvalidInputException(path, where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw new InvalidInputException(path, where + "bytes [" + begin + ", " + end
                    + ") lie outside the data section (" + dataSize + " bytes)");
        }
        long byteSize = end - begin;
        long needed = neededBytes(shape, dtype);
        if (needed != byteSize) {
            String neededText = needed < 0 ? "more than 2^63" : Long.toString(needed);
            throw new InvalidInputException(path, where + byteSize + " bytes but shape " + Arrays.toString(shape)
                    + " x " + dtype + " needs " + neededText);
        }
        return new TensorInfo(name, dtype, shape, dataStart + begin, byteSize);
    }

    /** Bytes for the shape, or -1 if that overflows a long (which no file can hold anyway). */
    private static long neededBytes(long[] shape, DType dtype) {
        try {
            long bytes = dtype.byteSize();
            for (long dim : shape) {
                bytes = Math.multiplyExact(bytes, dim);
            }
            return bytes;
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Reads an array of non-negative integers; {@code length} -1 means any length. */
    private static long[] readLongs(Path path, String what, JsonNode node, int length) {
        String expected = length < 0 ? "an array of non-negative integers" : length + " non-negative integers";
        if (!node.isArray() || (length >= 0 && node.size() != length)) {
            throw new InvalidInputException(path, what + " is not " + expected + " but " + describe(node));
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode element = node.get(i);
            if (!element.isIntegralNumber() || !element.canConvertToLong() || element.longValue() < 0) {
                throw new InvalidInputException(path, what + " is not " + expected + ": " + node);
            }
            values[i] = element.longValue();
        }
        return values;
    }

    private static void checkNoOverlap(Path path, Iterable<TensorInfo> tensors, long dataStart) {
        List<TensorInfo> byOffset = new ArrayList<>();
        for (TensorInfo info : tensors) {
            if (info.byteSize() > 0) { // empty tensors occupy no bytes, so they cannot collide
                byOffset.add(info);
            }
        }
        byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo previous = byOffset.get(i - 1);
            TensorInfo current = byOffset.get(i);
            if (current.offset() < previous.offset() + previous.byteSize()) {
                throw new InvalidInputException(path, "tensors '" + previous.name() + "' " + range(previous, dataStart)
                        + " and '" + current.name() + "' " + range(current, dataStart) + " overlap");
            }
        }
    }

    private static String range(TensorInfo info, long dataStart) {
        long begin = info.offset() - dataStart;
        return "[" + begin + ", " + (begin + info.byteSize()) + ")";
    }

    private static String describe(JsonNode node) {
        return node.isMissingNode() ? "missing" : node.getNodeType().name().toLowerCase() + " " + abbreviate(node.toString());
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    /** The {@code __metadata__} string map; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new InvalidInputException("tensor '" + name + "' not found in " + path);
        }
        return info;
    }

    @Override
    public MemorySegment segment(String name) {
        TensorInfo info = info(name);
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(path + " is closed");
        }
        return mapped.asSlice(info.offset(), info.byteSize()).asReadOnly();
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
