package dev.vane.train.optim;

import dev.vane.core.InvalidInputException;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.ComputePool;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Adam with decoupled weight decay, exactly as PyTorch's {@code torch.optim.AdamW} (non-amsgrad, non-fused) steps
 * one parameter {@code p} with gradient {@code g} at step {@code t} (1 for the first step):
 * <pre>
 *   p = p - lr * wd * p                                  (skipped for parameters without weight decay)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 * The arithmetic of each element is done in double and rounded to float once per stored value ({@code p},
 * {@code m}, {@code v}); PyTorch does the same steps in float32, so the two agree to float rounding, not bit for
 * bit. Weight decay is switched off per parameter ({@link Parameter#weightDecay()}); by convention norms and
 * biases get none ({@link #conventionalWeightDecay}).
 *
 * <p>The optimiser updates the caller's arrays in place: {@link Parameter#values()} (the trainable weights) from
 * {@link Parameter#grads()} (which the backward pass fills before each {@link #step}). Its state, the step count
 * and the moments {@code m} and {@code v} of every parameter, goes to a safetensors file ({@link #save}) with
 * tensors {@code exp_avg.NAME} and {@code exp_avg_sq.NAME} (F32, PyTorch's state names) and the step count and
 * betas in the metadata, and comes back with {@link #load}, which checks that the file holds exactly this
 * optimiser's parameters with the same sizes.
 *
 * <pre>{@code
 * AdamW opt = new AdamW(List.of(
 *         new AdamW.Parameter("lora_A", a, gradA, true),
 *         new AdamW.Parameter("norm", w, gradW, false)), AdamW.Settings.defaults(0.01));
 * for (long step = 0; step < total; step++) {
 *     backward(...);                            // fills gradA, gradW
 *     GradientClipping.clipByGlobalNorm(opt.grads(), 1.0);
 *     opt.step(schedule.lr(step));
 *     opt.zeroGrads();
 * }
 * opt.save(dir.resolve("optimizer.safetensors"));
 * }</pre>
 */
public final class AdamW {
    /** {@code __metadata__} key that marks a Vane AdamW state file. */
    static final String FORMAT_KEY = "format";
    static final String FORMAT = "vane-adamw-1";
    static final String STEP_KEY = "step";
    static final String BETA1_KEY = "beta1";
    static final String BETA2_KEY = "beta2";
    static final String EPS_KEY = "eps";
    static final String WEIGHT_DECAY_KEY = "weight_decay";
    static final String M_PREFIX = "exp_avg.";
    static final String V_PREFIX = "exp_avg_sq.";
    /** Elements per parallel chunk: small parameters are updated on the calling thread. */
    private static final int CHUNK = 1 << 16;

    /**
     * One trainable tensor, flattened.
     *
     * @param name        a unique name (the Hugging Face or PEFT tensor name), used in the state file
     * @param values      the weights, updated in place by {@link #step}
     * @param grads       the gradient of the loss with respect to {@code values}, same length; read by {@link #step}
     * @param weightDecay whether decoupled weight decay applies to this tensor (not for norms and biases)
     */
    public record Parameter(String name, float[] values, float[] grads, boolean weightDecay) {
        public Parameter {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(values, "values");
            Objects.requireNonNull(grads, "grads");
            if (values.length != grads.length) {
                throw new IllegalArgumentException("parameter " + name + ": " + values.length + " values but "
                        + grads.length + " gradients");
            }
        }
    }

    /**
     * The optimiser's hyperparameters other than the learning rate (which changes per step and is passed to
     * {@link #step}).
     *
     * @param beta1       decay of the first moment (0.9)
     * @param beta2       decay of the second moment (0.999)
     * @param eps         added to the denominator (1e-8)
     * @param weightDecay decoupled weight decay coefficient, multiplied by the learning rate (PyTorch's default
     *                    is 0.01, transformers' Trainer's 0.0)
     */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1)) throw new InvalidInputException("AdamW beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new InvalidInputException("AdamW beta2 must be in [0, 1), got " + beta2);
            if (!(eps >= 0) || Double.isInfinite(eps)) throw new InvalidInputException("AdamW eps must be finite and >= 0, got " + eps);
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new InvalidInputException("weight decay must be finite and >= 0, got " + weightDecay);
            }
        }

        /** betas (0.9, 0.999), eps 1e-8 and the given weight decay. */
        public static Settings defaults(double weightDecay) {
            return new Settings(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final List<Parameter> parameters;
    private final Settings settings;
    private final float[][] m;
    private final float[][] v;
    private long steps;

    /**
     * An optimiser over {@code parameters} with zero moments and no steps taken.
     *
     * @throws IllegalArgumentException if two parameters share a name
     */
    public AdamW(List<Parameter> parameters, Settings settings) {
        this.parameters = List.copyOf(parameters);
        this.settings = Objects.requireNonNull(settings, "settings");
        Set<String> names = new HashSet<>();
        for (Parameter p : this.parameters) {
            if (!names.add(p.name())) throw new IllegalArgumentException("two parameters are named " + p.name());
        }
        m = new float[this.parameters.size()][];
        v = new float[this.parameters.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[this.parameters.get(i).values().length];
            v[i] = new float[m[i].length];
        }
    }

    /**
     * Whether a Hugging Face / PEFT tensor conventionally gets weight decay: not biases ({@code *.bias}) and not
     * normalisation weights (any name containing {@code norm}: {@code input_layernorm}, {@code model.norm},
     * {@code q_norm}, ...); everything else (projections, embeddings, LoRA A and B) does.
     */
    public static boolean conventionalWeightDecay(String name) {
        return !name.endsWith(".bias") && !name.endsWith("_bias") && !name.toLowerCase(java.util.Locale.ROOT).contains("norm");
    }

    /** The parameters, in the order given. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** Every parameter's gradient array, in order (for {@link GradientClipping}). */
    public List<float[]> grads() {
        List<float[]> out = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) out.add(p.grads());
        return out;
    }

    public Settings settings() {
        return settings;
    }

    /** Number of steps taken (restored by {@link #load}); the next step is number {@code steps() + 1}. */
    public long steps() {
        return steps;
    }

    /** Sets every gradient to zero. */
    public void zeroGrads() {
        for (Parameter p : parameters) java.util.Arrays.fill(p.grads(), 0f);
    }

    /**
     * One update of every parameter from its gradient, with learning rate {@code lr}.
     *
     * @throws IllegalArgumentException if {@code lr} is negative or not finite
     */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        steps++;
        double b1 = settings.beta1(), b2 = settings.beta2(), eps = settings.eps();
        double bias1 = 1 - Math.pow(b1, steps);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(b2, steps));
        double stepSize = lr / bias1;
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            double decay = p.weightDecay() ? 1 - lr * settings.weightDecay() : 1;
            float[] w = p.values(), g = p.grads(), mi = m[i], vi = v[i];
            int n = w.length;
            int chunks = (n + CHUNK - 1) / CHUNK;
            java.util.function.IntConsumer body = c -> {
                int end = Math.min(n, (c + 1) * CHUNK);
                for (int j = c * CHUNK; j < end; j++) {
                    double gj = g[j];
                    double mj = b1 * mi[j] + (1 - b1) * gj;
                    double vj = b2 * vi[j] + (1 - b2) * gj * gj;
                    mi[j] = (float) mj;
                    vi[j] = (float) vj;
                    double denom = Math.sqrt(vi[j]) / bias2Sqrt + eps;
                    w[j] = (float) (w[j] * decay - stepSize * mi[j] / denom);
                }
            };
            if (chunks <= 1) {
                body.accept(0);
            } else {
                ComputePool.get().parallelFor(chunks, body);
            }
        }
    }

    /** The first moment of parameter {@code name} (a copy). */
    public float[] firstMoment(String name) {
        return m[index(name)].clone();
    }

    /** The second moment of parameter {@code name} (a copy). */
    public float[] secondMoment(String name) {
        return v[index(name)].clone();
    }

    private int index(String name) {
        for (int i = 0; i < parameters.size(); i++) if (parameters.get(i).name().equals(name)) return i;
        throw new IllegalArgumentException("no parameter named " + name);
    }

    /**
     * Writes the step count and both moments of every parameter to {@code file} (atomically: the file appears
     * complete or not at all).
     */
    public void save(Path file) throws IOException {
        SafetensorsWriter out = new SafetensorsWriter()
                .metadata(FORMAT_KEY, FORMAT)
                .metadata(STEP_KEY, Long.toString(steps))
                .metadata(BETA1_KEY, Double.toString(settings.beta1()))
                .metadata(BETA2_KEY, Double.toString(settings.beta2()))
                .metadata(EPS_KEY, Double.toString(settings.eps()))
                .metadata(WEIGHT_DECAY_KEY, Double.toString(settings.weightDecay()));
        for (int i = 0; i < parameters.size(); i++) {
            String name = parameters.get(i).name();
            out.add(M_PREFIX + name, DType.F32, new long[]{m[i].length}, m[i]);
            out.add(V_PREFIX + name, DType.F32, new long[]{v[i].length}, v[i]);
        }
        out.write(file);
    }

    /**
     * Restores the step count and moments saved by {@link #save}. The file must hold exactly this optimiser's
     * parameters with the same sizes, and have been written with the same betas (the moments mean something
     * else under other betas); nothing is changed unless all of that holds.
     *
     * @throws InvalidInputException naming the file and what differs: parameters missing from the file or not
     *                               in this optimiser, a size, the betas, a malformed step count or tensor
     */
    public void load(Path file) {
        try (SafetensorsFile in = SafetensorsFile.open(file)) {
            Map<String, String> meta = in.metadata();
            if (!FORMAT.equals(meta.get(FORMAT_KEY))) {
                throw new InvalidInputException(file, "not a Vane AdamW state file (metadata format is "
                        + (meta.get(FORMAT_KEY) == null ? "missing" : "\"" + meta.get(FORMAT_KEY) + "\"")
                        + ", expected \"" + FORMAT + "\")");
            }
            long step = parseStep(file, meta.get(STEP_KEY));
            checkBeta(file, meta, BETA1_KEY, settings.beta1());
            checkBeta(file, meta, BETA2_KEY, settings.beta2());

            Set<String> expected = new TreeSet<>();
            for (Parameter p : parameters) {
                expected.add(M_PREFIX + p.name());
                expected.add(V_PREFIX + p.name());
            }
            Set<String> present = new TreeSet<>(in.names());
            Set<String> missing = new TreeSet<>(expected);
            missing.removeAll(present);
            Set<String> extra = new TreeSet<>(present);
            extra.removeAll(expected);
            if (!missing.isEmpty() || !extra.isEmpty()) {
                throw new InvalidInputException(file, "optimiser state for other parameters: "
                        + (missing.isEmpty() ? "" : "missing " + list(stripped(missing)))
                        + (!missing.isEmpty() && !extra.isEmpty() ? "; " : "")
                        + (extra.isEmpty() ? "" : "not in this run " + list(stripped(extra))));
            }
            Map<String, float[]> read = new LinkedHashMap<>();
            for (String name : expected) {
                TensorInfo info = in.info(name);
                int size = parameters.get(index(name.substring(name.indexOf('.') + 1))).values().length;
                long[] shape = info.shape();
                if (info.dtype() != DType.F32 || shape.length != 1) {
                    throw new InvalidInputException(file, "tensor " + name + " is " + info.dtype() + " "
                            + java.util.Arrays.toString(shape) + ", expected F32 [" + size + "]");
                }
                if (shape[0] != size) {
                    throw new InvalidInputException(file, "parameter " + name.substring(name.indexOf('.') + 1)
                            + " has " + shape[0] + " elements in the optimiser state but " + size + " in this run");
                }
                read.put(name, in.readFloats(name));
            }
            for (int i = 0; i < parameters.size(); i++) {
                String name = parameters.get(i).name();
                m[i] = read.get(M_PREFIX + name);
                v[i] = read.get(V_PREFIX + name);
            }
            steps = step;
        }
    }

    private static long parseStep(Path file, String text) {
        try {
            long step = Long.parseLong(Objects.requireNonNull(text, "missing"));
            if (step < 0) throw new NumberFormatException("negative");
            return step;
        } catch (NumberFormatException | NullPointerException e) {
            throw new InvalidInputException(file, "metadata \"" + STEP_KEY + "\" is "
                    + (text == null ? "missing" : "\"" + text + "\"") + ", expected a step count >= 0");
        }
    }

    private static void checkBeta(Path file, Map<String, String> meta, String key, double mine) {
        String text = meta.get(key);
        double saved;
        try {
            saved = Double.parseDouble(Objects.requireNonNull(text));
        } catch (NumberFormatException | NullPointerException e) {
            throw new InvalidInputException(file, "metadata \"" + key + "\" is "
                    + (text == null ? "missing" : "\"" + text + "\"") + ", expected a number");
        }
        if (saved != mine) {
            throw new InvalidInputException(file, "optimiser state was saved with " + key + " " + saved
                    + ", this run uses " + mine);
        }
    }

    private static Set<String> stripped(Set<String> names) {
        Set<String> out = new TreeSet<>();
        for (String n : names) {
            if (n.startsWith(M_PREFIX)) out.add(n.substring(M_PREFIX.length()));
            else if (n.startsWith(V_PREFIX)) out.add(n.substring(V_PREFIX.length()));
            else out.add(n);
        }
        return out;
    }

    private static String list(Set<String> names) {
        List<String> shown = new ArrayList<>();
        for (String n : names) {
            if (shown.size() == 8) {
                shown.add("... (" + names.size() + " in all)");
                break;
            }
            shown.add(n);
        }
        return String.join(", ", shown);
    }
}
