package dev.vane.lab.probe;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A trained linear probe kept as a file, so that it can gate steering ({@code --when probe.safetensors>0.5}) or be
 * read again: one logistic-regression classifier on the activation at one hook point (one head of
 * {@code attn.hook_z}, all heads, or a residual point), read at the last token of the prompt.
 *
 * <p>File format (mirrors {@code SteeringVector}): a {@code .safetensors} with the tensors {@code weight} F32 [width]
 * and {@code bias} F32 [1], and metadata {@code format} = {@value #FORMAT}, {@code point} (hook point name),
 * {@code head} (for z: the head read, or absent for all heads), {@code position} ({@value #POSITION}: the last
 * token of the prompt, which with a chat template is the end of the generation prompt), {@code model},
 * {@code data}, {@code label} (what probability 1 means), {@code accuracy} (held-out cross-validated) and
 * {@code standardisation}: the per-feature standardisation the classifier was trained with is folded into
 * weight and bias ({@value #FOLDED}), so the score is {@code sigmoid(weight . x + bias)} on the raw activation x.
 *
 * <pre>{@code
 * ProbeFile harm = ProbeFile.read(Path.of("harm.safetensors"));
 * harm.validateFor(model.config());
 * double p = harm.probability(activationAtPromptEnd);      // P(label) for one raw activation
 * }</pre>
 */
public final class ProbeFile {
    /** Metadata value of {@code format}. */
    public static final String FORMAT = "vane.probe/1";
    /** The only position rule: the prompt's last token. */
    public static final String POSITION = "prompt-end";
    /** Metadata value of {@code standardisation}. */
    public static final String FOLDED = "folded into weight and bias";

    /**
     * Where the probe came from.
     *
     * @param model    the model it was trained on
     * @param data     the data it was trained on
     * @param label    what probability 1 means (e.g. "harmful request")
     * @param accuracy held-out (cross-validated) accuracy at its point
     * @param extra    anything else, stored as strings
     */
    public record Metadata(String model, String data, String label, double accuracy, Map<String, String> extra) {
        public Metadata {
            extra = Collections.unmodifiableMap(new TreeMap<>(extra));
        }
    }

    private final String name;
    private final HookPoint point;
    private final int head;
    private final float[] weight;
    private final double bias;
    private final Metadata metadata;

    /**
     * A probe reading {@code point} ({@code head} -1 for a residual point or all heads of z) with weights on the raw
     * activation.
     */
    public ProbeFile(String name, HookPoint point, int head, float[] weight, double bias, Metadata metadata) {
        this.name = name;
        this.point = point;
        this.head = head;
        this.weight = weight.clone();
        this.bias = bias;
        this.metadata = metadata;
        if (!ProbeStudy.KINDS.contains(point.kind())) {
            throw new InvalidInputException("probe " + name + ": cannot read " + point.name());
        }
        if (head >= 0 && point.kind() != HookPoint.Kind.Z) {
            throw new InvalidInputException("probe " + name + ": a head is only read at attn.hook_z, not " + point.name());
        }
        if (head < -1) throw new InvalidInputException("probe " + name + ": head " + head + " does not exist");
        if (weight.length == 0) throw new InvalidInputException("probe " + name + ": no weights");
        for (float w : weight) {
            if (!Float.isFinite(w)) throw new InvalidInputException("probe " + name + ": weight holds NaN or infinity");
        }
        if (!Double.isFinite(bias)) throw new InvalidInputException("probe " + name + ": bias is not finite");
    }

    /** The probe {@code fit} (weights on the raw activation, as {@link LinearProbe#fit} returns them). */
    public static ProbeFile of(String name, HookPoint point, int head, LinearProbe.Fit fit, Metadata metadata) {
        float[] w = new float[fit.weights().length];
        for (int i = 0; i < w.length; i++) w[i] = (float) fit.weights()[i];
        return new ProbeFile(name, point, head, w, fit.bias(), metadata);
    }

    /** Reads and validates a probe file; its name is the file stem. */
    public static ProbeFile read(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new InvalidInputException(file, "not a Vane probe (metadata format is " + meta.get("format")
                        + ", expected " + FORMAT + "; write one with vane probe --save)");
            }
            if (!POSITION.equals(meta.getOrDefault("position", POSITION))) {
                throw new InvalidInputException(file, "position \"" + meta.get("position") + "\" is not supported (only "
                        + POSITION + ")");
            }
            if (!FOLDED.equals(meta.get("standardisation"))) {
                throw new InvalidInputException(file, "standardisation \"" + meta.get("standardisation")
                        + "\" is not supported (expected \"" + FOLDED + "\")");
            }
            for (String t : List.of("weight", "bias")) {
                if (!st.contains(t)) throw new InvalidInputException(file, "has no tensor \"" + t + "\"");
            }
            if (st.info("weight").intShape().length != 1) throw new InvalidInputException(file, "weight must be [width]");
            float[] bias = st.readFloats("bias");
            if (bias.length != 1) throw new InvalidInputException(file, "bias must hold one value, it holds " + bias.length);
            HookPoint point;
            int head;
            double accuracy;
            try {
                point = HookPoint.parse(meta.getOrDefault("point", ""));
                head = Integer.parseInt(meta.getOrDefault("head", "-1").trim());
                accuracy = Double.parseDouble(meta.getOrDefault("accuracy", "NaN").trim());
            } catch (RuntimeException e) {
                throw new InvalidInputException(file, "bad metadata (point \"" + meta.get("point") + "\", head \""
                        + meta.get("head") + "\", accuracy \"" + meta.get("accuracy") + "\"): " + e.getMessage());
            }
            Map<String, String> extra = new LinkedHashMap<>(meta);
            for (String k : List.of("format", "point", "head", "position", "standardisation", "model", "data", "label",
                    "accuracy")) extra.remove(k);
            Metadata m = new Metadata(meta.getOrDefault("model", ""), meta.getOrDefault("data", ""),
                    meta.getOrDefault("label", ""), accuracy, extra);
            try {
                return new ProbeFile(name, point, head, st.readFloats("weight"), bias[0], m);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(file, e.getMessage());
            }
        }
    }

    /** Writes the probe (creating folders) in the format above. */
    public void write(Path file) {
        SafetensorsWriter w = new SafetensorsWriter();
        w.metadata("format", FORMAT).metadata("point", point.name()).metadata("position", POSITION)
                .metadata("standardisation", FOLDED).metadata("model", metadata.model()).metadata("data", metadata.data())
                .metadata("label", metadata.label()).metadata("accuracy", Double.toString(metadata.accuracy()));
        if (head >= 0) w.metadata("head", Integer.toString(head));
        metadata.extra().forEach(w::metadata);
        w.add("weight", DType.F32, new long[]{weight.length}, weight);
        w.add("bias", DType.F32, new long[]{1}, new float[]{(float) bias});
        w.writeCreatingFolder(file);
    }

    /** Fails with a clear message when the probe does not fit {@code config} (layer, width). */
    public void validateFor(ModelConfig config) {
        if (point.layer() >= config.layers()) {
            throw new InvalidInputException("probe " + name + " reads layer " + point.layer() + " but the model has "
                    + config.layers() + " layers");
        }
        if (head >= config.heads()) {
            throw new InvalidInputException("probe " + name + " reads head " + head + " but the model has "
                    + config.heads() + " heads");
        }
        int expected = point.kind() != HookPoint.Kind.Z ? config.dModel()
                : head >= 0 ? config.headDim() : config.heads() * config.headDim();
        if (weight.length != expected) {
            throw new InvalidInputException("probe " + name + " has " + weight.length + " weights at " + point.name()
                    + ", the model's activation there has " + expected + " values (was it trained on another model? it "
                    + "says: " + metadata.model() + ")");
        }
    }

    /**
     * Part of the log-odds: {@code weight[from, from + length) . x[offset, offset + length)}, bias not included (a
     * probe over every head of z sums one such part per head, then adds {@link #bias()}).
     */
    public double dot(float[] x, int offset, int from, int length) {
        double s = 0;
        for (int i = 0; i < length; i++) s += (double) weight[from + i] * x[offset + i];
        return s;
    }

    /** P(label) of one raw activation (the whole width the probe reads). */
    public double probability(float[] x) {
        if (x.length != weight.length) {
            throw new InvalidInputException("probe " + name + " reads " + weight.length + " values, got " + x.length);
        }
        return sigmoid(dot(x, 0, 0, x.length) + bias);
    }

    /** The logistic function, stable for large |z|. */
    public static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    public String name() {
        return name;
    }

    public HookPoint point() {
        return point;
    }

    /** The head read at z, or -1 (a residual point, or every head of z). */
    public int head() {
        return head;
    }

    public double bias() {
        return bias;
    }

    /** The weights on the raw activation (a copy). */
    public float[] weight() {
        return weight.clone();
    }

    public int width() {
        return weight.length;
    }

    public Metadata metadata() {
        return metadata;
    }

    /** A copy with another name. */
    public ProbeFile named(String newName) {
        return new ProbeFile(newName, point, head, weight, bias, metadata);
    }
}
