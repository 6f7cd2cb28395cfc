package dev.vane.core.hook;

import dev.vane.core.InvalidInputException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;

/**
 * The hooks of one forward call (or one generation): reading hooks that copy activations into a cache and
 * editing hooks that change them in place. Hooks belong to the call, never to the model, so concurrent calls
 * can each carry their own steering. At each point, hooks run in the order they were added.
 *
 * <pre>{@code
 * ActivationCache cache = new ActivationCache();
 * Hooks hooks = new Hooks()
 *     .add("blocks.1.hook_resid_post", steeringVector, 4.0f, Positions.all())       // CAA-style steering
 *     .addToHeads("blocks.1.attn.hook_z", new int[]{2}, headVector, 1f, Positions.lastOfCall())
 *     .zero("blocks.0.attn.hook_z", new int[]{1}, Positions.all())                  // head ablation
 *     .cache(cache, "blocks.2.hook_resid_post");
 * ForwardResult out = model.forward(Batch.of(tokens), hooks);
 * }</pre>
 *
 * <p>A call with no hooks (or none at a given point) does no hook work at all: the forward pass only asks
 * {@link #has} before building a view.
 */
public final class Hooks {
    /** How patched positions of the receiving run map to positions of the source run. */
    public enum Alignment {
        /** Same token index. */
        START,
        /** Same distance from the end of the sequence (the lying study's "last 25 positions"). */
        END
    }

    private final Map<HookPoint, List<HookFunction>> byPoint = new HashMap<>();

    /** An empty set of hooks: a plain forward pass. */
    public static Hooks none() {
        return new Hooks();
    }

    /** True when no hook is registered. */
    public boolean isEmpty() {
        return byPoint.isEmpty();
    }

    /** True when at least one hook is registered at {@code point}. */
    public boolean has(HookPoint point) {
        return !byPoint.isEmpty() && byPoint.containsKey(point);
    }

    /** Runs the hooks at the view's point, in registration order. */
    public void run(HookTensor value) {
        List<HookFunction> functions = byPoint.get(value.point());
        if (functions != null) {
            for (HookFunction f : functions) f.apply(value);
        }
    }

    /** Fails with a clear message if a hook names a layer the model does not have. */
    public void validate(int layers) {
        for (HookPoint p : byPoint.keySet()) {
            if (p.kind().perLayer() && p.layer() >= layers) {
                throw new InvalidInputException("hook " + p.name() + ": the model has " + layers
                        + " layers (0-" + (layers - 1) + ")");
            }
        }
    }

    /** Registers any function at {@code point}. */
    public Hooks custom(String point, HookFunction function) {
        byPoint.computeIfAbsent(HookPoint.parse(point), p -> new ArrayList<>()).add(function);
        return this;
    }

    /** Copies every position of the named points into {@code cache}. */
    public Hooks cache(ActivationCache cache, String... points) {
        return cache(cache, Positions.all(), points);
    }

    /** Copies the selected positions of the named points into {@code cache}. */
    public Hooks cache(ActivationCache cache, Positions positions, String... points) {
        for (String p : points) custom(p, value -> cache.record(value, positions));
        return this;
    }

    /** Adds {@code scale * vector} to every selected vector at {@code point} (every head for q/k/v/z). */
    public Hooks add(String point, float[] vector, float scale, Positions positions) {
        return addToHeads(point, null, vector, scale, positions);
    }

    /** Adds {@code scale * vector} ([d_head]) to the listed heads ({@code null} = all). */
    public Hooks addToHeads(String point, int[] heads, float[] vector, float scale, Positions positions) {
        float[] v = vector.clone();
        return custom(point, value -> {
            value.requireWidth(v, "the added vector");
            value.forEach(heads, positions, (row, token, head, data, off, len) -> {
                for (int i = 0; i < len; i++) data[off + i] += scale * v[i];
            });
        });
    }

    /**
     * Adds {@code scaleOfRow(row) * vector} ([d_head]) to the listed heads ({@code null} = all): a scale per batch
     * row, asked for when the hook runs, so that it can depend on what an earlier hook of the same call read (a
     * probe gating the steering of its own row). A row whose scale is 0 is left exactly as it was.
     *
     * <pre>{@code
     * double[] gate = new double[rows];        // filled by a reading hook at an earlier point
     * hooks.addToHeads("blocks.4.hook_resid_post", null, vector, row -> 8 * gate[row], Positions.all());
     * }</pre>
     */
    public Hooks addToHeads(String point, int[] heads, float[] vector, IntToDoubleFunction scaleOfRow, Positions positions) {
        float[] v = vector.clone();
        return custom(point, value -> {
            value.requireWidth(v, "the added vector");
            value.forEach(heads, positions, (row, token, head, data, off, len) -> {
                float scale = (float) scaleOfRow.applyAsDouble(row);
                if (scale == 0f) return;
                for (int i = 0; i < len; i++) data[off + i] += scale * v[i];
            });
        });
    }

    /** Multiplies the selected vectors by {@code factor} ({@code heads} null = all). */
    public Hooks scale(String point, int[] heads, float factor, Positions positions) {
        return custom(point, value -> value.forEach(heads, positions, (row, token, head, data, off, len) -> {
            for (int i = 0; i < len; i++) data[off + i] *= factor;
        }));
    }

    /** Sets the selected vectors to zero: head or position ablation ({@code heads} null = all). */
    public Hooks zero(String point, int[] heads, Positions positions) {
        return scale(point, heads, 0f, positions);
    }

    /** Removes the component along {@code direction} from every selected vector: x -= (x.u) u, u = unit. */
    public Hooks projectOut(String point, float[] direction, Positions positions) {
        double norm = 0;
        for (float d : direction) norm += (double) d * d;
        if (norm == 0) throw new InvalidInputException("hook " + point + ": cannot project out a zero vector");
        float[] u = direction.clone();
        for (int i = 0; i < u.length; i++) u[i] /= (float) Math.sqrt(norm);
        return custom(point, value -> {
            value.requireWidth(u, "the direction");
            value.forEach(null, positions, (row, token, head, data, off, len) -> {
                float dot = 0;
                for (int i = 0; i < len; i++) dot += data[off + i] * u[i];
                for (int i = 0; i < len; i++) data[off + i] -= dot * u[i];
            });
        });
    }

    /**
     * Activation patching: replaces the selected vectors with the values {@code source} holds for the same
     * point and row (another run's cache), positions matched by {@code alignment}.
     */
    public Hooks patch(String point, int[] heads, Positions positions, ActivationCache source, Alignment alignment) {
        String name = HookPoint.parse(point).name();
        return custom(point, value -> value.forEach(heads, positions, (row, token, head, data, off, len) -> {
            int sourceToken = alignment == Alignment.START ? token
                    : source.length(name, row) - (value.rowLength(row) - token);
            float[] from = source.vectorAt(name, row, sourceToken);
            if (from == null) {
                throw new InvalidInputException("patch " + name + ": the source run has no value for row " + row
                        + " at position " + sourceToken);
            }
            if (from.length != value.heads() * len) {
                throw new InvalidInputException("patch " + name + ": source vectors have " + from.length
                        + " values, this run's have " + value.heads() * len);
            }
            System.arraycopy(from, head * len, data, off, len);
        }));
    }
}
