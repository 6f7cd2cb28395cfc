package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lives in a safetensors file and what it looks like.
 *
 * <pre>{@code
 * TensorInfo info = source.info("model.embed_tokens.weight");
 * int[] dims = info.intShape();          // {739, 64}
 * long bytes = info.byteSize();          // 739 * 64 * 2 for BF16
 * }</pre>
 *
 * @param name     tensor name as in the header
 * @param dtype    element type
 * @param shape    dimensions, outermost first (a copy is kept and handed out)
 * @param offset   absolute byte position of the first element within the file
 * @param byteSize number of bytes the tensor occupies
 */
public record TensorInfo(String name, DType dtype, long[] shape, long offset, long byteSize) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        // Records expose their components; copying keeps the shape immutable from outside.
        shape = Objects.requireNonNull(shape, "shape").clone();
        if (offset < 0 || byteSize < 0) {
            throw new IllegalArgumentException("negative offset or size for tensor '" + name + "'");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Product of the dimensions (1 for a scalar). */
    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    /** The shape as ints, for in-memory arrays; fails if a dimension does not fit an int. */
    public int[] intShape() {
        int[] dims = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) {
                throw new InvalidInputException("tensor '" + name + "': dimension " + shape[i] + " of shape "
                        + shapeString() + " is too large for an int");
            }
            dims[i] = (int) shape[i];
        }
        return dims;
    }

    /** The shape as in Python, for example {@code "[64, 172]"}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo other
                && name.equals(other.name)
                && dtype == other.dtype
                && Arrays.equals(shape, other.shape)
                && offset == other.offset
                && byteSize == other.byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), offset, byteSize);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + " @" + offset + " (" + byteSize + " bytes)";
    }
}
