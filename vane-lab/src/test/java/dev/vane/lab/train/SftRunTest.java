package dev.vane.lab.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.lab.LabFiles;
import dev.vane.train.full.FullWeights;
import dev.vane.train.lora.PeftAdapter;
import dev.vane.train.optim.LrSchedule;
import dev.vane.train.run.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SftRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A short LoRA run on the organism's harmful answers: 6 steps of ~256 tokens, a checkpoint every 2. */
    static SftRun.Options options(boolean full, long seed) {
        return options(full, seed, 256, full ? 1e-4 : 2e-3);
    }

    static SftRun.Options options(boolean full, long seed, long batchTokens, double lr) {
        return new SftRun.Options(LabFiles.organism("organism-chat"), LabFiles.data("harmful_responses.jsonl"),
                SftData.Format.AUTO, null, null, 0, full, 4, 8f, 0.1f, EnumSet.of(Target.Q, Target.V, Target.DOWN),
                6, 1, batchTokens, 512, lr, 1, LrSchedule.Kind.COSINE, 0.01, 1.0, seed, 2, 0, false);
    }

    /** Stops the run after a given step, as a kill would (the checkpoint before it survives). */
    static final class Interrupt extends RuntimeException {
    }

    @Test
    void anInterruptedRunResumesAndEndsWhereAnUninterruptedRunEnds(@TempDir Path tmp) throws Exception {
        SftRun.Options o = options(false, 3);
        JsonNode whole = SftRun.run(o, tmp, tmp.resolve("whole"), SftRun.Listener.NONE);

        Path broken = tmp.resolve("broken");
        assertThatThrownBy(() -> SftRun.run(o, tmp, broken, new SftRun.Listener() {
            @Override
            public void step(Trainer.StepMetrics m, double evalLoss, long total) {
                if (m.step() + 1 == 3) throw new Interrupt();    // after step 3 is logged; checkpoint at 2
            }
        })).isInstanceOf(Interrupt.class);
        assertThat(broken.resolve("checkpoints/step-000002")).isDirectory();
        assertThat(broken.resolve("checkpoints/step-000004")).doesNotExist();
        long[] resumedFrom = {-1};
        JsonNode resumed = SftRun.run(o, tmp, broken, new SftRun.Listener() {
            @Override
            public void started(long done, long total, Path dir) {
                resumedFrom[0] = done;
            }
        });
        assertThat(resumedFrom[0]).isEqualTo(2);

        // Bit-exact: every step is a function of the step number and the seed.
        try (SafetensorsFile a = SafetensorsFile.open(tmp.resolve("whole/adapter/adapter_model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(broken.resolve("adapter/adapter_model.safetensors"))) {
            assertThat(b.names()).isEqualTo(a.names());
            for (String name : a.names()) assertThat(b.readFloats(name)).as(name).containsExactly(a.readFloats(name));
        }
        assertThat(resumed.get("final_loss").asDouble()).isEqualTo(whole.get("final_loss").asDouble());
        List<String> lines = Files.readAllLines(broken.resolve("metrics.jsonl"));
        assertThat(lines).hasSize(6);                          // step 3 was logged once, not twice
        assertThat(JSON.readTree(lines.get(5)).get("step").asInt()).isEqualTo(6);
        assertThat(tmp.resolve("whole/loss.png")).isNotEmptyFile();
        assertThat(tmp.resolve("whole/loss.svg")).isNotEmptyFile();
        // Only the last two checkpoints are kept.
        assertThat(tmp.resolve("whole/checkpoints/step-000002")).doesNotExist();
        assertThat(tmp.resolve("whole/checkpoints/step-000006/optimizer.safetensors")).isNotEmptyFile();
    }

    @Test
    void aResumeWithOtherOptionsIsRefusedAndLeavesTheCheckpointsAlone(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        SftRun.run(options(false, 3), tmp, dir, SftRun.Listener.NONE);
        byte[] before = Files.readAllBytes(dir.resolve("checkpoints/step-000006/adapter/adapter_model.safetensors"));
        assertThatThrownBy(() -> SftRun.run(options(false, 4), tmp, dir, SftRun.Listener.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("different config").hasMessageContaining("seed");
        assertThat(Files.readAllBytes(dir.resolve("checkpoints/step-000006/adapter/adapter_model.safetensors"))).isEqualTo(before);
    }

    @Test
    void theTrainedAdapterLowersTheLossAndReadsBackAsTheSameModel(@TempDir Path tmp) throws Exception {
        SftRun.run(options(false, 5, 1024, 5e-3), tmp, tmp.resolve("run"), SftRun.Listener.NONE);
        try (Model base = Model.load(LabFiles.organism("organism-chat"));
             dev.vane.core.tokenize.Tokenizer tokenizer = dev.vane.core.tokenize.Tokenizer.load(base.directory())) {
            var examples = SftData.forModel(base, tokenizer, 0).read(LabFiles.data("harmful_responses.jsonl"), null, null);
            LoraAdapter adapter = PeftAdapter.read(tmp.resolve("run/adapter"), base);
            Model tuned = base.withAdapters(List.of(adapter));
            double before = Trainer.evalLoss(base, Hooks.none(), examples, 2048);
            double after = Trainer.evalLoss(tuned, Hooks.none(), examples, 2048);
            assertThat(after).isLessThan(before - 0.3);
        }
    }

    @Test
    void fullFineTuningWritesAHuggingFaceCheckpointInTheOriginalDtype(@TempDir Path tmp) throws Exception {
        SftRun.Options o = options(true, 1, 1024, 3e-4);
        SftRun.run(o, tmp, tmp.resolve("full"), SftRun.Listener.NONE);
        Path out = tmp.resolve("full/model");
        try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"));
             Model trained = Model.load(out); Model original = Model.load(LabFiles.organism("organism-chat"))) {
            assertThat(written.info("model.layers.0.self_attn.q_proj.weight").dtype())
                    .isEqualTo(original.weights().info("model.layers.0.self_attn.q_proj.weight").dtype());
            assertThat(Files.exists(out.resolve("tokenizer.json"))).isTrue();
            int[] ids = {0, 10, 20, 30, 40, 50};
            float[] a = trained.forward(Batch.of(ids), Hooks.none()).lastLogits(0);
            float[] b = original.forward(Batch.of(ids), Hooks.none()).lastLogits(0);
            double diff = 0;
            for (int i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
            assertThat(diff).as("training changed the model").isGreaterThan(1e-3);
            try (dev.vane.core.tokenize.Tokenizer tokenizer = dev.vane.core.tokenize.Tokenizer.load(out)) {
                var examples = SftData.forModel(original, tokenizer, 0).read(LabFiles.data("harmful_responses.jsonl"), null, null);
                assertThat(Trainer.evalLoss(trained, Hooks.none(), examples, 2048))
                        .isLessThan(Trainer.evalLoss(original, Hooks.none(), examples, 2048) - 0.1);
            }
        }
        // The float32 masters of the last checkpoint equal what the exported bf16 weights round from.
        try (FullWeights w = FullWeights.load(out); SafetensorsFile masters =
                SafetensorsFile.open(tmp.resolve("full/checkpoints/step-000006/weights.safetensors"))) {
            float[] master = masters.readFloats("model.norm.weight");
            float[] exported = w.model().finalNorm();
            for (int i = 0; i < master.length; i++) {
                assertThat(exported[i]).isEqualTo(Float.intBitsToFloat(roundBf16(master[i])));
            }
        }
    }

    private static int roundBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return rounded & 0xFFFF0000;
    }
}
