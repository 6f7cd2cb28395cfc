package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Named tensors backed by memory-mapped safetensors data: a single {@link SafetensorsFile} or a
 * (possibly sharded) {@link SafetensorsCheckpoint}. This is what the model loader consumes.
 *
 * <pre>{@code
 * try (TensorSource weights = TensorSource.open(Path.of("models/llama"))) {
 *     MemorySegment embed = weights.segment("model.embed_tokens.weight");   // zero-copy, little-endian
 *     float[] norm = weights.readFloats("model.norm.weight");               // small tensors only
 * }
 * }</pre>
 *
 * <p>Segments stay valid until {@link #close()}; using one afterwards throws {@link IllegalStateException}.
 */
public interface TensorSource extends AutoCloseable {

    /**
     * Opens a file as a {@link SafetensorsFile} or a directory as a {@link SafetensorsCheckpoint}.
     *
     * @throws InvalidInputException if the path does not exist or its content is not valid safetensors
     */
    static TensorSource open(Path fileOrDir) {
        if (Files.isDirectory(fileOrDir)) {
            return SafetensorsCheckpoint.open(fileOrDir);
        }
        return SafetensorsFile.open(fileOrDir);
    }

    /** All tensor names, iterated in sorted order. */
    Set<String> names();

    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * Dtype, shape and location of a tensor.
     *
     * @throws InvalidInputException naming the tensor and this source's path if there is no such tensor
     */
    TensorInfo info(String name);

    /** A read-only slice of the mapped file holding exactly this tensor's (little-endian) bytes. */
    MemorySegment segment(String name);

    /**
     * The tensor converted to float32, for small tensors such as norms, biases and reference data.
     *
     * @throws InvalidInputException if the tensor is not F32, BF16 or F16, or too large for a Java array
     */
    default float[] readFloats(String name) {
        TensorInfo info = info(name);
        if (!info.dtype().isEngineFloat()) {
            throw new InvalidInputException(path(), "tensor '" + name + "' is " + info.dtype()
                    + "; only F32, BF16 and F16 tensors can be read as floats");
        }
        long count = info.elementCount();
        if (count > Integer.MAX_VALUE) {
            throw new InvalidInputException(path(), "tensor '" + name + "' has " + count
                    + " elements, too many for one float array; read it through segment() instead");
        }
        return FloatCodec.decode(segment(name), info.dtype(), (int) count);
    }

    /** The file or checkpoint directory this source was opened from. */
    Path path();

    /** Unmaps the data; segments handed out before become invalid. Closing twice is harmless. */
    @Override
    void close();
}
