package dev.vane.lab.bench;

import dev.vane.core.CacheFolder;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A checkpoint in Hugging Face layout with random bf16 weights of a {@link BenchShape}, written once and kept
 * under a cache folder. It is written beside its final place and renamed when complete, so an interrupted
 * write never leaves a half checkpoint that a later run would trust.
 *
 * <pre>{@code
 * Path dir = SyntheticCheckpoint.ensure(BenchShape.QWEN25_05B, SyntheticCheckpoint.defaultRoot(), System.err::println);
 * }</pre>
 */
public final class SyntheticCheckpoint {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SyntheticCheckpoint() {
    }

    /** {@code bench/} in Vane's cache folder ({@link CacheFolder}: VANE_CACHE, XDG_CACHE_HOME, then $HOME). */
    public static Path defaultRoot() {
        return CacheFolder.resolve().resolve("bench");
    }

    /** The checkpoint directory for {@code shape}, written first if it is not there yet. */
    public static Path ensure(BenchShape shape, Path root, java.util.function.Consumer<String> log) throws IOException {
        Path dir = root.resolve(shape.name);
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"))) {
            return dir;
        }
        Files.createDirectories(root);
        Path tmp = Files.createTempDirectory(root, "." + shape.name + "-");
        try {
            log.accept("writing a synthetic " + shape.name + " checkpoint (random bf16 weights) to " + dir + " ...");
            Files.writeString(tmp.resolve("config.json"), shape.configJson());
            weights(shape).write(tmp.resolve("model.safetensors"));
            if (Files.exists(dir)) deleteTree(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
        return dir;
    }

    private static SafetensorsWriter weights(BenchShape s) {
        SafetensorsWriter w = new SafetensorsWriter();
        int d = s.hidden, hd = s.headDim(), q = s.heads * hd, kv = s.kvHeads * hd, ff = s.intermediate;
        matrix(w, "model.embed_tokens.weight", s.vocab, d);
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".";
            ones(w, p + "input_layernorm.weight", d);
            matrix(w, p + "self_attn.q_proj.weight", q, d);
            matrix(w, p + "self_attn.k_proj.weight", kv, d);
            matrix(w, p + "self_attn.v_proj.weight", kv, d);
            if (s.modelType.equals("qwen2")) {
                matrix(w, p + "self_attn.q_proj.bias", 1, q);
                matrix(w, p + "self_attn.k_proj.bias", 1, kv);
                matrix(w, p + "self_attn.v_proj.bias", 1, kv);
            }
            matrix(w, p + "self_attn.o_proj.weight", d, q);
            ones(w, p + "post_attention_layernorm.weight", d);
            matrix(w, p + "mlp.gate_proj.weight", ff, d);
            matrix(w, p + "mlp.up_proj.weight", ff, d);
            matrix(w, p + "mlp.down_proj.weight", d, ff);
        }
        ones(w, "model.norm.weight", d);
        if (!s.tied) matrix(w, "lm_head.weight", s.vocab, d);
        return w;
    }

    /** Random values of standard deviation about 0.02 (a bias is written as a [1, n] "matrix", then flattened). */
    private static void matrix(SafetensorsWriter w, String name, long rows, long cols) {
        long[] shape = rows == 1 ? new long[]{cols} : new long[]{rows, cols};
        long seed = name.hashCode();
        w.add(name, DType.BF16, shape, (MemorySegment dst) -> {
            SplittableRandom random = new SplittableRandom(seed);
            long n = dst.byteSize() / 2;
            for (long i = 0; i < n; i++) {
                float v = (random.nextInt() >> 8) * (0.0346f / (1 << 23));     // uniform in +-0.0346: std 0.02
                dst.setAtIndex(BF16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        });
    }

    private static void ones(SafetensorsWriter w, String name, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        w.add(name, DType.BF16, new long[]{n}, v);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
