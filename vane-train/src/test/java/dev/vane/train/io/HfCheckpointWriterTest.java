package dev.vane.train.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.TensorInfo;
import dev.vane.core.tensor.DType;
import dev.vane.train.lora.AdapterFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Hugging Face checkpoints written from a model with some tensors replaced. */
class HfCheckpointWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * 0.1f;
        return v;
    }

    /**
     * bfloat16 nearest to {@code x}, ties to even, found by comparing the two neighbours rather than by the
     * writer's bit trick.
     */
    static short nearestBf16(double x) {
        int bits = Float.floatToRawIntBits((float) x);
        int toward = bits & 0xFFFF0000;                 // truncation: the neighbour toward zero
        int away = toward + 0x10000;                    // the next one away from zero
        double dt = Math.abs(x - Float.intBitsToFloat(toward)), da = Math.abs(x - Float.intBitsToFloat(away));
        int pick = dt < da ? toward : da < dt ? away : (((toward >>> 16) & 1) == 0 ? toward : away);
        return (short) (pick >>> 16);
    }

    @Test
    void shardedBf16CheckpointBecomesOneFileWithTheReplacedTensorRounded() throws IOException {
        Path source = AdapterFixtures.fixture("llama3");
        Path out = tmp.resolve("llama3-tuned");
        String name = "model.layers.1.mlp.up_proj.weight";
        float[] values = random(172 * 64, 1);
        // Round-to-nearest-even cases at the front: ties go to the even neighbour, just above a tie goes up.
        values[0] = 1f + 0x1p-8f;                  // tie between 1 and 1 + 2^-7: even is 1
        values[1] = 1f + 3 * 0x1p-8f;              // tie between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6
        values[2] = -(1f + 0x1p-8f);
        values[3] = 1f + 0x1p-8f + 0x1p-20f;       // above the tie: up
        values[4] = Float.MAX_VALUE;               // rounds past bf16's largest finite value: infinity, as in PyTorch
        try (Model base = Model.load(source)) {
            HfCheckpointWriter.write(base, Map.of(name, values), out);
        }
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("model.safetensors.index.json")).doesNotExist();
        for (String f : new String[]{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"}) {
            assertThat(Files.readAllBytes(out.resolve(f))).as(f).isEqualTo(Files.readAllBytes(source.resolve(f)));
        }
        JsonNode marker = JSON.readTree(out.resolve(HfCheckpointWriter.MARKER).toFile());
        assertThat(marker.get("complete").asBoolean()).isTrue();
        assertThat(marker.get("replaced_tensors").get(0).asText()).isEqualTo(name);

        try (Model original = Model.load(source); SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(written.names()).isEqualTo(original.weights().names());
            assertThat(written.metadata()).containsEntry("format", "pt");
            for (String n : original.weights().names()) {
                TensorInfo was = original.weights().info(n), now = written.info(n);
                assertThat(now.dtype()).as(n).isEqualTo(was.dtype());
                assertThat(now.shape()).as(n).isEqualTo(was.shape());
                if (!n.equals(name)) {
                    assertThat(written.segment(n).mismatch(original.weights().segment(n))).as(n).isEqualTo(-1L);
                }
            }
            MemorySegment replaced = written.segment(name);
            short[] bits = new short[values.length];
            MemorySegment.copy(replaced, I16, 0, bits, 0, bits.length);
            assertThat(bits[0]).isEqualTo((short) 0x3F80);
            assertThat(bits[1]).isEqualTo((short) 0x3F82);
            assertThat(bits[2]).isEqualTo((short) 0xBF80);
            assertThat(bits[3]).isEqualTo((short) 0x3F81);
            assertThat(bits[4]).isEqualTo((short) 0x7F80);
            for (int i = 5; i < values.length; i++) {
                assertThat(bits[i]).as("element %d", i).isEqualTo(nearestBf16(values[i]));
            }
        }
        try (Model reloaded = Model.load(out)) {
            assertThat(reloaded.config().layers()).isEqualTo(3);
        }
    }

    @Test
    void f16AndF32CheckpointsKeepTheirDtype() throws IOException {
        for (String family : new String[]{"mistral", "gemma"}) {
            Path out = tmp.resolve(family);
            String name = "model.layers.0.self_attn.o_proj.weight";
            float[] values;
            DType dtype;
            try (Model base = Model.load(AdapterFixtures.fixture(family))) {
                TensorInfo info = base.weights().info(name);
                dtype = info.dtype();
                values = random((int) info.elementCount(), 2);
                HfCheckpointWriter.write(base, Map.of(name, values), out);
            }
            assertThat(dtype).isEqualTo(family.equals("mistral") ? DType.F16 : DType.F32);
            try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertThat(written.info(name).dtype()).isEqualTo(dtype);
                MemorySegment seg = written.segment(name);
                for (int i = 0; i < values.length; i++) {
                    if (dtype == DType.F16) {
                        assertThat(seg.get(I16, 2L * i)).isEqualTo(Float.floatToFloat16(values[i]));
                    } else {
                        assertThat(seg.get(F32, 4L * i)).isEqualTo(values[i]);
                    }
                }
            }
            Model.load(out).close();
        }
    }

    @Test
    void refusesTheSourceDirectoryAndForeignDirectories() throws IOException {
        Path source = AdapterFixtures.fixture("qwen2");
        String name = "model.norm.weight";
        try (Model base = Model.load(source)) {
            Map<String, float[]> replaced = Map.of(name, new float[64]);
            assertThatThrownBy(() -> HfCheckpointWriter.write(base, replaced, source))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(source + ": ").hasMessageContaining("source model's own directory");

            Path foreign = tmp.resolve("photos");
            Files.createDirectories(foreign);
            Files.writeString(foreign.resolve("holiday.jpg"), "not a model");
            assertThatThrownBy(() -> HfCheckpointWriter.write(base, replaced, foreign))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(foreign + ": ").hasMessageContaining("not empty")
                    .hasMessageContaining("not a checkpoint Vane wrote");
            assertThat(foreign.resolve("model.safetensors")).doesNotExist();

            Path file = tmp.resolve("a-file");
            Files.writeString(file, "x");
            assertThatThrownBy(() -> HfCheckpointWriter.write(base, replaced, file))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("not a directory");

            Path missing = tmp.resolve("never");
            assertThatThrownBy(() -> HfCheckpointWriter.write(base, Map.of("model.no_such.weight", new float[1]), missing))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model.no_such.weight");
            assertThatThrownBy(() -> HfCheckpointWriter.write(base, Map.of(name, new float[63]), missing))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("63 values");
            assertThat(missing).doesNotExist();

            // An earlier Vane output is overwritten, and files the source lacks do not survive from it.
            Path earlier = tmp.resolve("earlier");
            float[] ones = new float[64];
            java.util.Arrays.fill(ones, 1f);
            HfCheckpointWriter.write(base, Map.of(name, ones), earlier);
            Files.writeString(earlier.resolve("special_tokens_map.json"), "{}");
            float[] twos = new float[64];
            java.util.Arrays.fill(twos, 2f);
            HfCheckpointWriter.write(base, Map.of(name, twos), earlier);
            assertThat(earlier.resolve("special_tokens_map.json")).doesNotExist();
            try (Model again = Model.load(earlier)) {
                assertThat(again.finalNorm()).containsOnly(2f);
            }
        }
    }
}
