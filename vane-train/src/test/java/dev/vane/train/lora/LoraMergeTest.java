package dev.vane.train.lora;

import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.vane.train.lora.AdapterFixtures.logits;
import static dev.vane.train.lora.AdapterFixtures.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

/** Merging adapters into the organism's bf16 weights. */
class LoraMergeTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    /**
     * The merge's float32 values reproduce the runtime adapter's logits up to float32 reassociation
     * ({@code (W + s B A) x} against {@code W x + s B (A x)}: 1e-3 on logits up to ~25). Written as bf16, each
     * merged weight is rounded once, which moves it by at most 2^-9 of its size (half a unit in the last place),
     * up or down at random; through the six blocks that moves the logits by about 2^-9 of their size (0.2%,
     * measured), so the bound is 2^-7 (four times that) of the largest logit. The adapter's own effect is more
     * than ten times the bound, so a merge that dropped a target, misscaled or transposed B A would fail.
     */
    @Test
    void mergedLogitsEqualTheRuntimeAdapterWithinBf16Rounding() throws IOException {
        Path source = AdapterFixtures.organism("organism-chat");
        Path out = tmp.resolve("merged");
        Path f32 = tmp.resolve("merged-f32");
        float[] runtime, plain;
        try (Model base = Model.load(source)) {
            LoraAdapter lora = AdapterFixtures.random(base.config(), 4, 8f, EnumSet.allOf(Target.class), 0.1f, 11);
            LoraMerge.write(base, List.of(lora), out);
            runtime = logits(base.withAdapters(List.of(lora)));
            plain = logits(base);
            // The same merge kept in float32: every tensor as F32, the merged ones unrounded.
            Map<String, float[]> merged = LoraMerge.merge(base, List.of(lora));
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : base.weights().names()) {
                w.add(n, DType.F32, base.weights().info(n).shape(), merged.getOrDefault(n, base.weights().readFloats(n)));
            }
            Files.createDirectories(f32);
            w.write(f32.resolve("model.safetensors"));
            Files.copy(source.resolve("config.json"), f32.resolve("config.json"));
        }
        try (Model m = Model.load(f32)) {
            assertThat(maxAbsDiff(logits(m), runtime)).as("float32 merge vs runtime").isLessThan(1e-3f);
        }
        float[] merged;
        try (Model m = Model.load(out)) {
            assertThat(m.weights().info("model.layers.0.self_attn.q_proj.weight").dtype()).isEqualTo(DType.BF16);
            merged = logits(m);
        }
        float largest = 0;
        for (float v : runtime) largest = Math.max(largest, Math.abs(v));
        float bound = 0x1p-7f * largest;
        float effect = maxAbsDiff(runtime, plain);
        float error = maxAbsDiff(merged, runtime);
        assertThat(error).as("bf16 merge vs runtime (largest logit %s)", largest).isLessThan(bound);
        assertThat(effect).as("the adapter's effect").isGreaterThan(10 * bound);
        assertThat(Files.readString(out.resolve("config.json"))).isEqualTo(Files.readString(source.resolve("config.json")));
    }

    /**
     * Each merged weight is bf16(W + (alpha / r) B A), checked against a float64 sum rounded by comparing the two
     * bf16 neighbours; the float32 sum in the merge may land on the other side of a tie in rare cases, one unit
     * in the last place away. Untargeted tensors are byte-identical.
     */
    @Test
    void mergedWeightsAreTheRoundedSumAndTheRestIsCopied() {
        Path source = AdapterFixtures.organism("organism-chat");
        Path out = tmp.resolve("merged-two");
        try (Model base = Model.load(source)) {
            ModelConfig c = base.config();
            LoraAdapter first = AdapterFixtures.random(c, 4, 8f, EnumSet.of(Target.Q, Target.DOWN), 0.05f, 12);
            LoraAdapter second = AdapterFixtures.random(c, 2, 16f, EnumSet.of(Target.Q, Target.UP), 0.05f, 13);
            List<LoraAdapter> both = List.of(first, second);
            LoraMerge.write(base, both, out);
            Set<String> changed = LoraMerge.changedWeights(c, both);
            assertThat(changed).hasSize(3 * c.layers()).contains("model.layers.5.mlp.up_proj.weight");

            long total = 0, offByOne = 0;
            try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                for (String n : base.weights().names()) {
                    if (!changed.contains(n)) {
                        assertThat(written.segment(n).mismatch(base.weights().segment(n))).as(n).isEqualTo(-1L);
                    }
                }
                for (int l = 0; l < c.layers(); l++) {
                    for (Target t : List.of(Target.Q, Target.UP, Target.DOWN)) {
                        String name = LoraMerge.weightName(l, t);
                        int rows = t.out(c), cols = t.in(c);
                        float[] w = base.weights().readFloats(name);
                        MemorySegment got = written.segment(name);
                        for (int o = 0; o < rows; o++) {
                            for (int i = 0; i < cols; i++) {
                                double x = w[o * cols + i];
                                for (LoraAdapter a : both) {
                                    if (!a.has(l, t)) continue;
                                    double dot = 0;
                                    for (int k = 0; k < a.rank(); k++) {
                                        dot += (double) a.b(l, t)[o * a.rank() + k] * a.a(l, t)[k * cols + i];
                                    }
                                    x += (double) a.alpha() / a.rank() * dot;
                                }
                                short want = nearestBf16(x);
                                short have = got.get(I16, 2L * (o * cols + i));
                                total++;
                                if (have != want) {
                                    offByOne++;
                                    assertThat(Math.abs(have - want)).as("%s [%d, %d]", name, o, i).isEqualTo(1);
                                }
                            }
                        }
                    }
                }
            }
            assertThat(offByOne).as("weights one bf16 unit off, of %d", total).isLessThanOrEqualTo(total / 10_000);
        }
    }

    static short nearestBf16(double x) {
        int bits = Float.floatToRawIntBits((float) x);
        int toward = bits & 0xFFFF0000, away = toward + 0x10000;
        double dt = Math.abs(x - Float.intBitsToFloat(toward)), da = Math.abs(x - Float.intBitsToFloat(away));
        int pick = dt < da ? toward : da < dt ? away : (((toward >>> 16) & 1) == 0 ? toward : away);
        return (short) (pick >>> 16);
    }

    @Test
    void mergeInMemoryMatchesTheWrittenOneBeforeRounding() {
        try (Model base = Model.load(AdapterFixtures.organism("organism-chat"))) {
            LoraAdapter lora = AdapterFixtures.random(base.config(), 4, 8f, EnumSet.of(Target.V), 0.05f, 14);
            var merged = LoraMerge.merge(base, List.of(lora));
            assertThat(merged.keySet()).hasSize(base.config().layers()).allMatch(n -> n.endsWith("self_attn.v_proj.weight"));
            float[] w = base.weights().readFloats("model.layers.2.self_attn.v_proj.weight");
            float[] m = merged.get("model.layers.2.self_attn.v_proj.weight");
            assertThat(maxAbsDiff(w, m)).isGreaterThan(0f);
        }
    }
}
