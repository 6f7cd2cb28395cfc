package dev.vane.train.lora;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LoRA adapters in the layout of Hugging Face's PEFT library, so that adapters move between Vane and PEFT: a
 * directory with {@code adapter_config.json} ({@code peft_type} LORA, {@code r}, {@code lora_alpha},
 * {@code target_modules}, ...) and {@code adapter_model.safetensors}, whose tensors are named as PEFT's
 * {@code save_pretrained} names them for a causal LM, e.g.
 * {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight} ([r, in]) and
 * {@code ...q_proj.lora_B.weight} ([out, r]).
 *
 * <pre>{@code
 * // Vane -> PEFT: PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), "adapters/harmful")
 * PeftAdapter.write(lora, Path.of("adapters/harmful"), model.directory().toAbsolutePath().toString());
 *
 * // PEFT (or Vane) -> Vane: every field and tensor is checked against the model first
 * LoraAdapter read = PeftAdapter.read(Path.of("adapters/harmful"), model);
 * Model tuned = model.withAdapters(List.of(read));
 * }</pre>
 *
 * <p>Only plain LoRA on the seven linear layers of a block is read: DoRA, rsLoRA, per-layer rank or alpha
 * patterns, a subset of layers, bias training and extra saved modules are refused with a message saying so,
 * never half-applied.
 */
public final class PeftAdapter {
    /** The configuration file of an adapter directory. */
    public static final String CONFIG_FILE = "adapter_config.json";
    /** The weights file of an adapter directory. */
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    /** PEFT's prefix: PeftModel.base_model (LoraModel).model (XForCausalLM).model (the decoder).layers. */
    private static final String PREFIX = "base_model.model.model.layers.";
    private static final Pattern KEY = Pattern.compile(
            Pattern.quote(PREFIX) + "(\\d+)\\.(\\w+)\\.(\\w+)\\.(lora_A|lora_B)\\.weight");

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private PeftAdapter() {
    }

    /** PEFT's name of one factor's tensor, e.g. {@code base_model.model.model.layers.3.mlp.up_proj.lora_B.weight}. */
    public static String key(int layer, Target target, boolean b) {
        return PREFIX + layer + "." + target.path() + (b ? ".lora_B" : ".lora_A") + ".weight";
    }

    /**
     * Reads the adapter in {@code dir} for {@code model}, after checking everything in it: the config's fields
     * (plain LoRA only, known target modules, a base model of the same name as the model's directory when the
     * config names one), and every tensor (present, none extra, dtype F32/BF16/F16, shape matching the model,
     * finite values).
     *
     * @throws InvalidInputException naming the file and the problem
     */
    public static LoraAdapter read(Path dir, Model model) {
        Settings s = readSettings(dir);
        checkBase(s, model.directory());
        return readWeights(dir, s, model.config());
    }

    /**
     * The {@code base_model_name_or_path} of the adapter in {@code dir}, if its config names one (used to find
     * the model an adapter belongs to). Does not validate the rest of the config.
     *
     * @throws InvalidInputException if the directory has no readable adapter_config.json
     */
    public static Optional<String> baseModelNameOrPath(Path dir) {
        JsonNode base = readConfigJson(dir).path("base_model_name_or_path");
        return base.isTextual() && !base.textValue().isBlank() ? Optional.of(base.textValue()) : Optional.empty();
    }

    /** The base model as a directory on this machine, if {@code base_model_name_or_path} names one. */
    public static Optional<Path> baseModelDirectory(Path dir) {
        return baseModelNameOrPath(dir).flatMap(name -> {
            try {
                Path p = Path.of(name);
                return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
            } catch (InvalidPathException e) {
                return Optional.empty();    // a hub id such as "meta-llama/Llama-3.2-1B" on an odd file system
            }
        });
    }

    /**
     * Writes {@code adapter} to {@code dir} (created if missing) as PEFT writes it: adapter_config.json and
     * adapter_model.safetensors with float32 factors. Both files are written in full to temporary files first
     * and then renamed over any earlier ones, so a write that fails (disk full, a non-finite value) leaves an
     * earlier adapter in {@code dir} as it was.
     *
     * @param baseModelNameOrPath recorded as {@code base_model_name_or_path} (a hub id or a directory; null for
     *                            none): {@link #read} checks its last path component against the model's
     *                            directory name, and PEFT loads the base model from it
     * @throws IllegalArgumentException if a factor holds a non-finite value (nothing is written)
     * @throws UncheckedIOException     if the files cannot be written
     */
    public static void write(LoraAdapter adapter, Path dir, String baseModelNameOrPath) {
        ModelConfig c = adapter.config();
        SafetensorsWriter weights = new SafetensorsWriter().metadata("format", "pt");
        for (int l = 0; l < c.layers(); l++) {
            for (Target t : sorted(adapter.targets())) {
                float[] a = adapter.a(l, t), b = adapter.b(l, t);
                requireFinite(a, key(l, t, false));
                requireFinite(b, key(l, t, true));
                weights.add(key(l, t, false), DType.F32, new long[]{adapter.rank(), t.in(c)}, a);
                weights.add(key(l, t, true), DType.F32, new long[]{t.out(c), adapter.rank()}, b);
            }
        }
        byte[] config = configJson(adapter, baseModelNameOrPath).toPrettyString().getBytes(StandardCharsets.UTF_8);
        String tag = "." + UUID.randomUUID() + ".tmp";
        Path weightsTemp = dir.resolve("." + WEIGHTS_FILE + tag);
        Path configTemp = dir.resolve("." + CONFIG_FILE + tag);
        try {
            Files.createDirectories(dir);
            weights.write(weightsTemp);
            try (FileChannel ch = FileChannel.open(configTemp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(config));
                ch.force(true);
            }
            // Everything that can fail slowly is done; two renames remain.
            Files.move(weightsTemp, dir.resolve(WEIGHTS_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.move(configTemp, dir.resolve(CONFIG_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the adapter to " + dir + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(weightsTemp);
                Files.deleteIfExists(configTemp);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless: readers look only at the two final names
            }
        }
    }

    /** adapter_config.json as PEFT's LoraConfig writes it (keys sorted, as PEFT writes them). */
    static ObjectNode configJson(LoraAdapter adapter, String baseModelNameOrPath) {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("alpha_pattern");
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.putNull("layers_pattern");
        o.putNull("layers_to_transform");
        putNumber(o, "lora_alpha", adapter.alpha());
        putNumber(o, "lora_dropout", adapter.dropout());
        o.putNull("modules_to_save");
        o.put("peft_type", "LORA");
        o.put("r", adapter.rank());
        o.putObject("rank_pattern");
        o.putNull("revision");
        var modules = o.putArray("target_modules");
        sorted(adapter.targets()).forEach(t -> modules.add(t.module()));
        o.put("task_type", "CAUSAL_LM");
        o.put("use_dora", false);
        o.put("use_rslora", false);
        return o;
    }

    /** Whole numbers as integers (16, not 16.0), as PEFT's configs usually carry them; others as the float's decimal. */
    private static void putNumber(ObjectNode o, String key, float value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e9) o.put(key, (long) value);
        else o.put(key, Double.parseDouble(Float.toString(value)));
    }

    private static List<Target> sorted(Set<Target> targets) {
        return EnumSet.copyOf(targets).stream().toList();
    }

    private static void requireFinite(float[] values, String name) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("LoRA factor " + name + " holds " + v + "; not written");
            }
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------

    /** What adapter_config.json says, checked. */
    private record Settings(Path configFile, int rank, float alpha, float dropout, Set<Target> targets, String base) {
    }

    private static JsonNode readConfigJson(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir, Files.exists(dir) ? "not an adapter directory (a file, not a folder)"
                    : "adapter directory does not exist");
        }
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "missing: not a PEFT adapter directory (expected " + CONFIG_FILE
                    + " and " + WEIGHTS_FILE + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new InvalidInputException(file, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (root == null || !root.isObject()) throw new InvalidInputException(file, "not a JSON object");
        return root;
    }

    private static Settings readSettings(Path dir) {
        JsonNode root = readConfigJson(dir);
        Path file = dir.resolve(CONFIG_FILE);
        String type = root.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new InvalidInputException(file, "peft_type is " + (root.has("peft_type") ? root.get("peft_type") : "missing")
                    + "; Vane reads LoRA adapters only (\"peft_type\": \"LORA\")");
        }
        JsonNode task = root.path("task_type");
        if (!task.isMissingNode() && !task.isNull() && !task.asText().equals("CAUSAL_LM")) {
            throw new InvalidInputException(file, "task_type is " + task + "; Vane reads adapters of causal language "
                    + "models (\"CAUSAL_LM\")");
        }
        refuseTrue(root, file, "use_rslora", "rsLoRA (scale alpha / sqrt(r)) is not supported");
        refuseTrue(root, file, "use_dora", "DoRA adapters are not supported");
        refuseTrue(root, file, "fan_in_fan_out", "transposed (Conv1D, GPT-2 style) layers are not supported");
        refuseTrue(root, file, "lora_bias", "LoRA biases are not supported");
        refuseNonEmpty(root, file, "rank_pattern", "per-layer ranks are not supported");
        refuseNonEmpty(root, file, "alpha_pattern", "per-layer alphas are not supported");
        refuseNonEmpty(root, file, "layers_to_transform", "adapters on a subset of layers are not supported");
        refuseNonEmpty(root, file, "layer_replication", "layer replication is not supported");
        refuseNonEmpty(root, file, "modules_to_save", "fully trained extra modules are not supported");
        refuseNonEmpty(root, file, "exclude_modules", "excluded modules are not supported");
        refuseNonEmpty(root, file, "target_parameters", "adapters on parameters (not modules) are not supported");
        refuseNonEmpty(root, file, "trainable_token_indices", "trainable token embeddings are not supported");
        // LoRA variants of newer PEFT releases that change the forward pass without (or besides) the plain factors.
        refuseTrue(root, file, "use_qalora", "QA-LoRA (pooled inputs) is not supported");
        refuseNonEmpty(root, file, "alora_invocation_tokens", "activated LoRA (on only after invocation tokens) is not supported");
        refuseNonEmpty(root, file, "use_bdlora", "block-diagonal LoRA is not supported");
        refuseNonEmpty(root, file, "kasa_config", "KaSA is not supported");
        refuseNonEmpty(root, file, "arrow_config", "Arrow routing is not supported");
        refuseNonEmpty(root, file, "monteclora_config", "MonteCLoRA is not supported");
        JsonNode bias = root.path("bias");
        if (!bias.isMissingNode() && !bias.isNull() && !bias.asText().equals("none")) {
            throw new InvalidInputException(file, "bias is " + bias + "; Vane reads adapters without trained biases "
                    + "(\"bias\": \"none\")");
        }

        // PEFT's defaults where a field is absent: r 8, lora_alpha 8, lora_dropout 0.
        JsonNode r = root.path("r");
        int rank = 8;
        if (!r.isMissingNode()) {
            if (!r.canConvertToInt() || !r.isIntegralNumber() || r.intValue() <= 0) {
                throw new InvalidInputException(file, "r must be a positive integer, got " + r);
            }
            rank = r.intValue();
        }
        float alpha = number(root, file, "lora_alpha", 8f);
        if (!(alpha > 0) || Float.isInfinite(alpha)) {
            throw new InvalidInputException(file, "lora_alpha must be a positive number, got " + alpha);
        }
        float dropout = number(root, file, "lora_dropout", 0f);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new InvalidInputException(file, "lora_dropout must be in [0, 1), got " + dropout);
        }

        JsonNode modules = root.path("target_modules");
        if (modules.isTextual()) {
            throw new InvalidInputException(file, "target_modules is the pattern " + modules + "; Vane needs a list of "
                    + "module names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
        }
        if (!modules.isArray() || modules.isEmpty()) {
            throw new InvalidInputException(file, "target_modules must be a non-empty list of module names, got "
                    + (modules.isMissingNode() ? "nothing" : modules));
        }
        Set<Target> targets = EnumSet.noneOf(Target.class);
        for (JsonNode m : modules) {
            Target t = m.isTextual() ? target(m.textValue()) : null;
            if (t == null) {
                throw new InvalidInputException(file, "unknown target module " + m + " in target_modules; Vane adapts "
                        + "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj and down_proj");
            }
            targets.add(t);
        }
        JsonNode base = root.path("base_model_name_or_path");
        String baseName = base.isTextual() && !base.textValue().isBlank() ? base.textValue() : null;
        return new Settings(file, rank, alpha, dropout, targets, baseName);
    }

    /** A PEFT target_modules entry: a module name (q_proj) or its path in the block (self_attn.q_proj). */
    private static Target target(String name) {
        for (Target t : Target.values()) {
            if (name.equals(t.module()) || name.equals(t.path())) return t;
        }
        return null;
    }

    private static void refuseTrue(JsonNode root, Path file, String field, String why) {
        if (root.path(field).asBoolean(false)) {
            throw new InvalidInputException(file, field + " is true: " + why);
        }
    }

    private static void refuseNonEmpty(JsonNode root, Path file, String field, String why) {
        JsonNode v = root.path(field);
        boolean empty = v.isMissingNode() || v.isNull() || ((v.isObject() || v.isArray()) && v.isEmpty())
                || (v.isBoolean() && !v.booleanValue()) || (v.isTextual() && v.textValue().isBlank());
        if (!empty) {
            String shown = v.toString();
            if (shown.length() > 80) shown = shown.substring(0, 77) + "...";
            throw new InvalidInputException(file, field + " is " + shown + ": " + why);
        }
    }

    private static float number(JsonNode root, Path file, String field, float absent) {
        JsonNode v = root.path(field);
        if (v.isMissingNode()) return absent;
        if (!v.isNumber()) throw new InvalidInputException(file, field + " must be a number, got " + v);
        return v.floatValue();
    }

    /** The last component of a hub id or path: "meta-llama/Llama-3.2-1B/" -> "Llama-3.2-1B". */
    public static String lastComponent(String nameOrPath) {
        String s = nameOrPath.strip();
        while (s.length() > 1 && (s.endsWith("/") || s.endsWith("\\"))) s = s.substring(0, s.length() - 1);
        int cut = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
        return s.substring(cut + 1);
    }

    private static void checkBase(Settings s, Path modelDirectory) {
        if (s.base() == null) return;
        Path name = modelDirectory.toAbsolutePath().normalize().getFileName();
        String modelName = name == null ? "" : name.toString();
        String wanted = lastComponent(s.base());
        if (!wanted.toLowerCase(Locale.ROOT).equals(modelName.toLowerCase(Locale.ROOT))) {
            throw new InvalidInputException(s.configFile(), "adapter was made for base model \"" + s.base()
                    + "\" but the model is " + modelDirectory + " (directory names differ: " + wanted + " vs "
                    + modelName + "); if it is the same model under another name, edit base_model_name_or_path");
        }
    }

    private static LoraAdapter readWeights(Path dir, Settings s, ModelConfig c) {
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            String hint = Files.exists(dir.resolve("adapter_model.bin"))
                    ? " (found adapter_model.bin: Vane reads safetensors only; convert it with PEFT's save_pretrained)" : "";
            throw new InvalidInputException(file, "missing" + hint);
        }
        LoraAdapter adapter = LoraAdapter.empty(c, s.rank(), s.alpha(), s.dropout(), s.targets());
        try (SafetensorsFile weights = SafetensorsFile.open(file)) {
            Set<String> unexpected = new TreeSet<>();
            for (String name : weights.names()) {
                Matcher m = KEY.matcher(name);
                if (!m.matches()) {
                    unexpected.add(name);
                    continue;
                }
                int layer;
                try {
                    layer = Integer.parseInt(m.group(1));
                } catch (NumberFormatException e) {
                    layer = Integer.MAX_VALUE;
                }
                if (layer >= c.layers()) {
                    throw new InvalidInputException(file, "tensor '" + name + "' is for layer " + m.group(1)
                            + " but the model has " + c.layers() + " layers: the adapter was made for a model of "
                            + "another shape");
                }
                Target t = target(m.group(2) + "." + m.group(3));
                if (t == null || !s.targets().contains(t)) unexpected.add(name);
            }
            if (!unexpected.isEmpty()) {
                List<String> shown = new ArrayList<>(unexpected).subList(0, Math.min(3, unexpected.size()));
                throw new InvalidInputException(file, unexpected.size() + " unexpected tensor(s) " + shown
                        + (unexpected.size() > 3 ? " ..." : "") + "; expected only lora_A/lora_B of " + modules(s.targets())
                        + " (target_modules of " + CONFIG_FILE + ") for layers 0.." + (c.layers() - 1));
            }
            for (int l = 0; l < c.layers(); l++) {
                for (Target t : sorted(s.targets())) {
                    adapter.setA(l, t, factor(weights, file, key(l, t, false), s.rank(), t.in(c), c));
                    adapter.setB(l, t, factor(weights, file, key(l, t, true), t.out(c), s.rank(), c));
                }
            }
        }
        return adapter;
    }

    private static String modules(Set<Target> targets) {
        return String.join(", ", sorted(targets).stream().map(Target::module).toList());
    }

    private static float[] factor(SafetensorsFile weights, Path file, String name, int rows, int cols, ModelConfig c) {
        if (!weights.contains(name)) {
            throw new InvalidInputException(file, "missing tensor '" + name + "'");
        }
        TensorInfo info = weights.info(name);
        if (!info.dtype().isEngineFloat()) {
            throw new InvalidInputException(file, "tensor '" + name + "' has dtype " + info.dtype()
                    + "; LoRA factors must be F32, BF16 or F16");
        }
        long[] expected = {rows, cols};
        if (!Arrays.equals(info.shape(), expected)) {
            throw new InvalidInputException(file, "tensor '" + name + "' has shape " + info.shapeString() + " but "
                    + Arrays.toString(expected) + " was expected (r from " + CONFIG_FILE + "; the model has hidden_size "
                    + c.dModel() + ", " + c.heads() + " heads, " + c.kvHeads() + " kv heads, head_dim " + c.headDim()
                    + ", intermediate_size " + c.dFf() + "): the adapter does not fit this model");
        }
        float[] values = weights.readFloats(name);
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(file, "tensor '" + name + "' holds " + values[i] + " at index " + i);
            }
        }
        return values;
    }
}
