package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.DType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntToDoubleFunction;

/**
 * One steering vector of any kind: residual (a [d_model] vector per layer, CAA), per head (a [d_head] vector
 * per chosen (layer, head) on {@code attn.hook_z}, ITI and HSI) or sparse (a residual vector with all but the
 * largest entries zeroed, Jailbreak Antidote). It carries where it acts ({@link PositionRule}) and metadata;
 * the strength is chosen when it is applied ({@link Steering}).
 *
 * <p>File format: a {@code .safetensors} whose tensors are named by hook point
 * ({@code blocks.13.hook_resid_post} -> F32 [d_model]; {@code blocks.12.attn.hook_z} -> F32 [heads, d_head]
 * with unused heads zero) and whose metadata records the method, model, sign convention, positions,
 * recommended scale, sparsity, data and heads ({@code "12:11,13:18"}).
 *
 * <pre>{@code
 * SteeringVector caa = SteeringVector.read(Path.of("caa-coordination.safetensors"));
 * Hooks hooks = Steering.of(caa, 1.5f).hooks(1, new int[]{promptLength - 1});
 * generator.generate(prompt, params, hooks);
 * }</pre>
 */
public final class SteeringVector {
    /** Metadata key with the format version. */
    public static final String FORMAT = "vane.steering/1";

    /** One hook point's part: {@code heads} null for residual points; values [d_model] or [heads * d_head]. */
    public record Component(String point, int[] heads, float[] values) {
        /** True for a per-head ({@code attn.hook_z}) component. */
        public boolean perHead() {
            return heads != null;
        }

        /** The [d_head] slice of head {@code head} (per-head components). */
        public float[] head(int head, int headDim) {
            return Arrays.copyOfRange(values, head * headDim, (head + 1) * headDim);
        }

        /** L2 norm of the values. */
        public double norm() {
            double s = 0;
            for (float v : values) s += (double) v * v;
            return Math.sqrt(s);
        }

        /** Number of non-zero entries. */
        public int nonZero() {
            int n = 0;
            for (float v : values) if (v != 0f) n++;
            return n;
        }
    }

    /**
     * What the vector is and how it was made.
     *
     * @param method           caa, iti, hsi, antidote or custom
     * @param model            the model it was built on (directory name or hub id)
     * @param sign             what a positive scale does ("positive = more of the behaviour: ...")
     * @param positions        where it acts
     * @param recommendedScale the scale to use when the user gives none
     * @param sparsity         fraction of residual entries kept (1 = dense)
     * @param data             the data it was built from
     * @param extra            anything else (counts, layer scores), stored as strings
     */
    public record Metadata(String method, String model, String sign, PositionRule positions, double recommendedScale,
                           double sparsity, String data, Map<String, String> extra) {
        public Metadata {
            extra = Collections.unmodifiableMap(new TreeMap<>(extra));
        }
    }

    private final String name;
    private final List<Component> components;
    private final Metadata metadata;
    private final int headDim;

    /** A vector from its components (one per hook point). {@code headDim} is needed for per-head components. */
    public SteeringVector(String name, List<Component> components, Metadata metadata, int headDim) {
        if (components.isEmpty()) throw new InvalidInputException("steering vector " + name + " has no components");
        this.name = name;
        this.components = List.copyOf(components);
        this.metadata = metadata;
        this.headDim = headDim;
        for (Component c : components) {
            HookPoint p = HookPoint.parse(c.point());
            boolean headPoint = p.kind() == HookPoint.Kind.Z;
            boolean residPoint = switch (p.kind()) {
                case RESID_PRE, RESID_MID, RESID_POST, ATTN_OUT, MLP_OUT -> true;
                default -> false;
            };
            if (!headPoint && !residPoint) {
                throw new InvalidInputException(name + ": cannot steer at " + c.point()
                        + " (use a residual point or attn.hook_z)");
            }
            if (headPoint != c.perHead()) {
                throw new InvalidInputException(name + ": " + c.point() + (headPoint ? " needs a heads list"
                        : " is a residual point and takes no heads"));
            }
            for (float v : c.values()) {
                if (!Float.isFinite(v)) throw new InvalidInputException(name + ": " + c.point() + " holds NaN or infinity");
            }
            if (c.perHead()) {
                if (headDim <= 0 || c.values().length % headDim != 0) {
                    throw new InvalidInputException(name + ": " + c.point() + " is not [heads, d_head]");
                }
                int heads = c.values().length / headDim;
                for (int h : c.heads()) {
                    if (h < 0 || h >= heads) throw new InvalidInputException(name + ": head " + h + " out of range at "
                            + c.point());
                }
            }
        }
    }

    /** Reads and validates a vector file. */
    public static SteeringVector read(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new InvalidInputException(file + ": not a Vane steering vector (metadata format is "
                        + meta.get("format") + ", expected " + FORMAT + ")");
            }
            Map<Integer, int[]> heads = parseHeads(file, meta.getOrDefault("heads", ""));
            List<Component> components = new ArrayList<>();
            int headDim = 0;
            for (String point : sortedPoints(st)) {
                TensorInfo info = st.info(point);
                HookPoint hp;
                try {
                    hp = HookPoint.parse(point);
                } catch (RuntimeException e) {
                    throw new InvalidInputException(file + ": tensor " + point + " is not named by a hook point");
                }
                float[] values = st.readFloats(point);
                int[] shape = info.intShape();
                if (hp.kind() == HookPoint.Kind.Z) {
                    if (shape.length != 2) throw new InvalidInputException(file + ": " + point + " must be [heads, d_head]");
                    if (headDim != 0 && headDim != shape[1]) throw new InvalidInputException(file + ": d_head differs between tensors");
                    headDim = shape[1];
                    int[] hs = heads.get(hp.layer());
                    if (hs == null) throw new InvalidInputException(file + ": metadata \"heads\" lists no head for " + point);
                    components.add(new Component(point, hs, values));
                } else {
                    if (shape.length != 1) throw new InvalidInputException(file + ": " + point + " must be [d_model]");
                    components.add(new Component(point, null, values));
                }
            }
            for (int layer : heads.keySet()) {
                if (!st.contains(HookPoint.of(layer, HookPoint.Kind.Z).name())) {
                    throw new InvalidInputException(file + ": metadata lists heads of layer " + layer + " but no tensor");
                }
            }
            Map<String, String> extra = new LinkedHashMap<>(meta);
            for (String k : List.of("format", "method", "model", "sign", "positions", "recommended_scale", "sparsity",
                    "data", "heads")) extra.remove(k);
            Metadata m;
            try {
                m = new Metadata(meta.getOrDefault("method", "custom"), meta.getOrDefault("model", ""),
                        meta.getOrDefault("sign", ""), PositionRule.parse(meta.getOrDefault("positions", "all")),
                        finiteNumber(meta, "recommended_scale"), finiteNumber(meta, "sparsity"),
                        meta.getOrDefault("data", ""), extra);
                if (!(m.sparsity() > 0 && m.sparsity() <= 1)) {
                    throw new IllegalArgumentException("sparsity must be in (0, 1], got " + meta.get("sparsity"));
                }
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(file + ": bad metadata: " + e.getMessage());
            }
            return new SteeringVector(name, components, m, headDim);
        }
    }

    /** A metadata number (1 when absent) that must be finite: NaN or 1e400 would poison every later product. */
    private static double finiteNumber(Map<String, String> meta, String key) {
        String text = meta.getOrDefault(key, "1");
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not a number: \"" + text + "\"");
        }
        if (!Double.isFinite(v)) throw new IllegalArgumentException(key + " must be a finite number, got \"" + text + "\"");
        return v;
    }

    private static List<String> sortedPoints(SafetensorsFile st) {
        // By layer, then name, so components come out in forward order.
        List<String> names = new ArrayList<>(st.names());
        names.sort((a, b) -> {
            HookPoint pa = safeParse(a), pb = safeParse(b);
            int c = Integer.compare(pa == null ? -1 : pa.layer(), pb == null ? -1 : pb.layer());
            return c != 0 ? c : a.compareTo(b);
        });
        return names;
    }

    private static HookPoint safeParse(String name) {
        try {
            return HookPoint.parse(name);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Map<Integer, int[]> parseHeads(Path file, String spec) {
        try {
            return HeadList.parse(spec);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ": metadata: " + e.getMessage());
        }
    }

    /** Writes the vector (atomically) in the format above. */
    public void write(Path file) {
        SafetensorsWriter w = new SafetensorsWriter();
        w.metadata("format", FORMAT).metadata("method", metadata.method()).metadata("model", metadata.model())
                .metadata("sign", metadata.sign()).metadata("positions", metadata.positions().id())
                .metadata("recommended_scale", Double.toString(metadata.recommendedScale()))
                .metadata("sparsity", Double.toString(metadata.sparsity())).metadata("data", metadata.data());
        String heads = headsSpec();
        if (!heads.isEmpty()) w.metadata("heads", heads);
        metadata.extra().forEach(w::metadata);
        for (Component c : components) {
            long[] shape = c.perHead() ? new long[]{c.values().length / headDim, headDim} : new long[]{c.values().length};
            w.add(c.point(), DType.F32, shape, c.values());
        }
        w.writeCreatingFolder(file);
    }

    /** The chosen heads as {@code "12:11,13:18"} (empty for residual vectors). */
    public String headsSpec() {
        StringBuilder sb = new StringBuilder();
        for (Component c : components) {
            if (!c.perHead()) continue;
            int layer = HookPoint.parse(c.point()).layer();
            for (int h : c.heads()) sb.append(sb.isEmpty() ? "" : ",").append(layer).append(':').append(h);
        }
        return sb.toString();
    }

    /** Fails with a clear message when the vector does not fit {@code config} (layers, widths). */
    public void validateFor(ModelConfig config) {
        for (Component c : components) {
            HookPoint p = HookPoint.parse(c.point());
            if (p.layer() >= config.layers()) {
                throw new InvalidInputException("steering vector " + name + " acts on layer " + p.layer()
                        + " but the model has " + config.layers() + " layers");
            }
            int expected = c.perHead() ? config.heads() * config.headDim() : config.dModel();
            if (c.values().length != expected || (c.perHead() && headDim != config.headDim())) {
                throw new InvalidInputException("steering vector " + name + " has " + c.values().length
                        + " values at " + c.point() + ", the model needs " + expected
                        + " (was it built on another model? it says: " + metadata.model() + ")");
            }
        }
    }

    /** Registers this vector, times {@code scale}, on {@code hooks} at {@code positions}. */
    public void addTo(Hooks hooks, float scale, Positions positions) {
        for (Component c : components) {
            if (c.perHead()) {
                for (int h : c.heads()) {
                    hooks.addToHeads(c.point(), new int[]{h}, c.head(h, headDim), scale, positions);
                }
            } else {
                hooks.add(c.point(), c.values(), scale, positions);
            }
        }
    }

    /**
     * Registers this vector on {@code hooks} at {@code positions}, each batch row times its own
     * {@code scaleOfRow(row)}, asked for when the hook runs (a gate decides it during the same call).
     */
    public void addTo(Hooks hooks, IntToDoubleFunction scaleOfRow, Positions positions) {
        for (Component c : components) {
            if (c.perHead()) {
                for (int h : c.heads()) hooks.addToHeads(c.point(), new int[]{h}, c.head(h, headDim), scaleOfRow, positions);
            } else {
                hooks.addToHeads(c.point(), null, c.values(), scaleOfRow, positions);
            }
        }
    }

    /**
     * A sparse copy: in every residual component, only the {@code fraction} of entries with the largest
     * magnitude are kept and the rest set to zero (no renormalisation, as Jailbreak Antidote does).
     */
    public SteeringVector sparsified(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) throw new InvalidInputException("sparsity must be in (0, 1], got " + fraction);
        List<Component> out = new ArrayList<>();
        for (Component c : components) {
            out.add(c.perHead() ? c : new Component(c.point(), null, keepLargest(c.values(), fraction)));
        }
        Metadata m = new Metadata(metadata.method(), metadata.model(), metadata.sign(), metadata.positions(),
                metadata.recommendedScale(), fraction * metadata.sparsity(), metadata.data(), metadata.extra());
        return new SteeringVector(name, out, m, headDim);
    }

    /** {@code values} with all but the ceil(fraction * n) largest-magnitude entries zeroed (ties: lower index). */
    static float[] keepLargest(float[] values, double fraction) {
        int keep = (int) Math.ceil(fraction * values.length - 1e-9);
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(Math.abs(values[b]), Math.abs(values[a]));
            return c != 0 ? c : Integer.compare(a, b);
        });
        float[] out = new float[values.length];
        for (int k = 0; k < keep; k++) out[order[k]] = values[order[k]];
        return out;
    }

    /** A copy with another name. */
    public SteeringVector named(String newName) {
        return new SteeringVector(newName, components, metadata, headDim);
    }

    /**
     * This vector recommending {@code scale}, found as {@code basis} says (kept in the metadata as
     * {@code recommended_scale_basis}, with the previous recommendation as {@code builder_scale}).
     */
    public SteeringVector withRecommendedScale(double scale, String basis) {
        if (!Double.isFinite(scale)) throw new InvalidInputException("recommended scale must be finite, got " + scale);
        Map<String, String> extra = new TreeMap<>(metadata.extra());
        extra.put("builder_scale", Double.toString(metadata.recommendedScale()));
        extra.put("recommended_scale_basis", basis);
        Metadata m = new Metadata(metadata.method(), metadata.model(), metadata.sign(), metadata.positions(), scale,
                metadata.sparsity(), metadata.data(), extra);
        return new SteeringVector(name, components, m, headDim);
    }

    /** The name (file stem). */
    public String name() {
        return name;
    }

    /** The components in forward order. */
    public List<Component> components() {
        return components;
    }

    /** The metadata. */
    public Metadata metadata() {
        return metadata;
    }

    /** d_head of per-head components (0 for residual vectors). */
    public int headDim() {
        return headDim;
    }
}
