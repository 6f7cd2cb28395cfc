package dev.vane.core.tensor;

import java.util.Arrays;

/**
 * A dense row-major float32 array with a shape: what activations, caches and reference values are.
 *
 * <pre>{@code
 * FloatTensor t = FloatTensor.zeros(20, 64);
 * t.set(1.5f, 3, 7);
 * float v = t.get(3, 7);
 * }</pre>
 */
public final class FloatTensor {
    private final float[] data;
    private final int[] shape;

    /** Wraps {@code data} (not copied); its length must equal the product of {@code shape}. */
    public FloatTensor(float[] data, int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n
                    + " values, got " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    /** A tensor of zeros. */
    public static FloatTensor zeros(int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return new FloatTensor(new float[Math.toIntExact(n)], shape);
    }

    /** The backing array (not a copy). */
    public float[] data() {
        return data;
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}. */
    public int dim(int i) {
        return shape[i];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return data.length;
    }

    /** Element at the given index. */
    public float get(int... index) {
        return data[offset(index)];
    }

    /** Sets the element at the given index. */
    public void set(float value, int... index) {
        data[offset(index)] = value;
    }

    /** Flat offset of an index (all dimensions given). */
    public int offset(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for shape "
                    + Arrays.toString(shape));
        }
        int off = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside "
                        + Arrays.toString(shape));
            }
            off = off * shape[i] + index[i];
        }
        return off;
    }

    /** A copy of the sub-tensor at {@code index} along the first dimension. */
    public FloatTensor slice(int index) {
        int inner = data.length / shape[0];
        return new FloatTensor(Arrays.copyOfRange(data, index * inner, (index + 1) * inner),
                Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** Largest absolute element difference to another tensor of the same shape. */
    public float maxAbsDiff(FloatTensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("shapes differ: " + Arrays.toString(shape) + " vs "
                    + Arrays.toString(other.shape));
        }
        float max = 0;
        for (int i = 0; i < data.length; i++) {
            float d = Math.abs(data[i] - other.data[i]);
            if (!(d <= max)) max = Float.isNaN(d) ? Float.NaN : d;   // NaN sticks: it is never "close"
            if (Float.isNaN(max)) return max;
        }
        return max;
    }

    /** Largest absolute element. */
    public float maxAbs() {
        float max = 0;
        for (float v : data) max = Math.max(max, Math.abs(v));
        return max;
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
