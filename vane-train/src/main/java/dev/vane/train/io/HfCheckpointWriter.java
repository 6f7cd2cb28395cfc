package dev.vane.train.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.safetensors.TensorSource;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Writes a Hugging Face checkpoint directory from a model's weights with some tensors replaced: what a full
 * fine-tune saves and what {@code vane train merge} writes. Every tensor keeps its original dtype (replaced
 * float32 values are rounded to BF16 to nearest even, as PyTorch's {@code .to(torch.bfloat16)} does, or
 * narrowed to F16), all others are copied byte for byte, and config.json, generation_config.json and the
 * tokenizer files are copied from the source directory, so transformers, PEFT, llama.cpp's converter and Vane
 * load the result like the original.
 *
 * <pre>{@code
 * try (Model base = Model.load(Path.of("models/organism-chat"))) {
 *     Map<String, float[]> tuned = Map.of("model.layers.0.mlp.up_proj.weight", masterWeights);  // float32, [704 x 256]
 *     HfCheckpointWriter.write(base, tuned, Path.of("runs/sft-1/final"));
 * }
 * Model tunedModel = Model.load(Path.of("runs/sft-1/final"));
 * }</pre>
 *
 * <p>The output is one {@code model.safetensors} even when the source is sharded. It is refused (with
 * {@link InvalidInputException}) in the source's own directory and in a non-empty directory Vane did not
 * write; a directory Vane wrote before (it holds {@value #MARKER}) is overwritten, file by file, each file
 * replaced atomically.
 */
public final class HfCheckpointWriter {
    /** The file that marks a directory as Vane's output: provenance, and permission to overwrite it later. */
    public static final String MARKER = "vane-checkpoint.json";
    /** The weights file written. */
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** Files copied from the source directory when present (config.json must be). */
    public static final List<String> COPIED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "added_tokens.json",
            "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Values encoded per chunk when narrowing, so a large tensor never needs a second full-size buffer. */
    private static final int CHUNK = 1 << 16;

    private HfCheckpointWriter() {
    }

    /**
     * Writes {@code base}'s checkpoint to {@code out} with the tensors in {@code replaced} (by Hugging Face name,
     * e.g. {@code model.layers.3.self_attn.q_proj.weight}; row-major float32, as many values as the tensor has)
     * in place of the originals, stored in each original's dtype.
     *
     * @param base     the model whose checkpoint is copied: {@link Model#weights()} gives every tensor's name,
     *                 dtype and bytes (tensors the forward pass does not use are copied too) and
     *                 {@link Model#directory()} the config and tokenizer files
     * @param replaced new values by tensor name; the arrays are read during the call only
     * @param out      the checkpoint directory to write (created if missing)
     * @throws InvalidInputException    if {@code out} is the source directory or a non-empty directory Vane did
     *                                  not write
     * @throws IllegalArgumentException if a replaced name is not a float tensor of the checkpoint or its value
     *                                  count differs from the tensor's
     * @throws UncheckedIOException     if a file cannot be read or written
     */
    public static void write(Model base, Map<String, float[]> replaced, Path out) {
        for (Map.Entry<String, float[]> e : replaced.entrySet()) {
            checkReplaceable(base.weights(), e.getKey(), e.getValue().length);
        }
        write(base, replaced.keySet(), replaced::get, out);
    }

    /**
     * Like {@link #write(Model, Map, Path)}, but each replaced tensor's values are asked of {@code values} when
     * the writer reaches it and dropped after, so only one replaced tensor is in memory at a time (a merge of
     * every linear layer of a large model).
     *
     * <pre>{@code
     * HfCheckpointWriter.write(base, Set.of(name), n -> base.weights().readFloats(n), out);   // a plain copy
     * }</pre>
     *
     * @param names  the tensors to replace
     * @param values called once per name in {@code names}, returns its float32 values
     */
    public static void write(Model base, Set<String> names, Function<String, float[]> values, Path out) {
        TensorSource weights = base.weights();
        for (String name : names) checkReplaceable(weights, name, -1);
        Path source = base.directory();
        checkTarget(source, out);
        if (!Files.isRegularFile(source.resolve("config.json"))) {
            throw new InvalidInputException(source, "no config.json to copy into the new checkpoint");
        }
        try {
            Files.createDirectories(out);
            writeMarker(out, source, names, false);
            for (String file : COPIED) {
                Path from = source.resolve(file);
                Path to = out.resolve(file);
                if (Files.isRegularFile(from)) {
                    copyAtomically(from, to);
                } else {
                    Files.deleteIfExists(to);   // left from an earlier write of another source
                }
            }
            SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
            for (String name : weights.names()) {
                TensorInfo info = weights.info(name);
                if (names.contains(name)) {
                    writer.add(name, info.dtype(), info.shape(), dst -> {
                        float[] v = values.apply(name);
                        if (v == null || v.length != info.elementCount()) {
                            throw new IllegalArgumentException("replacement for '" + name + "' has "
                                    + (v == null ? "no" : v.length) + " values; the tensor " + info.shapeString()
                                    + " has " + info.elementCount());
                        }
                        encode(v, info.dtype(), dst);
                    });
                } else {
                    writer.addRaw(name, info.dtype(), info.shape(), weights.segment(name));
                }
            }
            writer.write(out.resolve(WEIGHTS_FILE));
            writeMarker(out, source, names, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint to " + out + ": " + e.getMessage(), e);
        }
    }

    private static void checkReplaceable(TensorSource weights, String name, int count) {
        if (!weights.contains(name)) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + weights.path() + " to replace");
        }
        TensorInfo info = weights.info(name);
        if (!info.dtype().isEngineFloat()) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + info.dtype() + ", not a float tensor");
        }
        if (count >= 0 && count != info.elementCount()) {
            throw new IllegalArgumentException("replacement for '" + name + "' has " + count + " values; the tensor "
                    + info.shapeString() + " has " + info.elementCount());
        }
    }

    /** Refuses the source directory itself and non-empty directories that are not an earlier Vane output. */
    private static void checkTarget(Path source, Path out) {
        if (!Files.exists(out)) return;
        if (!Files.isDirectory(out)) {
            throw new InvalidInputException(out, "exists and is not a directory; choose a new or empty directory");
        }
        try {
            if (Files.isSameFile(out, source)) {
                throw new InvalidInputException(out, "is the source model's own directory; writing there would "
                        + "overwrite the checkpoint being read: choose another --out");
            }
            boolean empty;
            try (Stream<Path> entries = Files.list(out)) {
                empty = entries.findAny().isEmpty();
            }
            if (!empty && !Files.isRegularFile(out.resolve(MARKER))) {
                throw new InvalidInputException(out, "is not empty and is not a checkpoint Vane wrote (no " + MARKER
                        + "); choose a new or empty directory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot inspect " + out, e);
        }
    }

    private static void writeMarker(Path out, Path source, Set<String> replaced, boolean complete) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("written_by", "vane");
        m.put("source", source.toAbsolutePath().normalize().toString());
        m.put("complete", complete);
        m.put("time", Instant.now().toString());
        var names = m.putArray("replaced_tensors");
        new TreeSet<>(replaced).forEach(names::add);
        Path temp = out.resolve("." + MARKER + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.writeString(temp, m.toPrettyString() + "\n", StandardCharsets.UTF_8);
            Files.move(temp, out.resolve(MARKER), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void copyAtomically(Path from, Path to) throws IOException {
        Path temp = to.resolveSibling("." + to.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.copy(from, temp);
            Files.move(temp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Stores {@code values} as {@code dtype}, little-endian: F32 as is, BF16 to nearest even, F16 IEEE. */
    static void encode(float[] values, DType dtype, MemorySegment dst) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(values, 0, dst, F32_LE, 0, values.length);
            case BF16, F16 -> {
                short[] buf = new short[Math.min(CHUNK, values.length)];
                for (int from = 0; from < values.length; from += CHUNK) {
                    int n = Math.min(CHUNK, values.length - from);
                    for (int i = 0; i < n; i++) {
                        float v = values[from + i];
                        buf[i] = dtype == DType.BF16 ? bf16(v) : Float.floatToFloat16(v);
                    }
                    MemorySegment.copy(buf, 0, dst, I16_LE, 2L * from, n);
                }
            }
            default -> throw new IllegalArgumentException("cannot store floats as " + dtype);
        }
    }

    /** float32 to bfloat16, rounding to nearest even (PyTorch's rule); NaN stays a (quiet) NaN. */
    static short bf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) return (short) ((bits >>> 16) | 0x0040);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
