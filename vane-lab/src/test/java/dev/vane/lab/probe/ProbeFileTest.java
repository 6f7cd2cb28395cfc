package dev.vane.lab.probe;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.data.Request;
import dev.vane.lab.extract.ActivationExtractor;
import dev.vane.lab.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.vane.lab.LabFiles.organism;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** A probe written by {@code vane probe --save} reads back as the same classifier, and bad files say what is wrong. */
class ProbeFileTest {
    @TempDir
    Path tmp;

    private static List<String> prompts(String file, int n) {
        List<String> out = new ArrayList<>();
        for (Request r : JsonlFile.read(organism("organism-data").resolve(file), Request::fromJson)) {
            if (r.split().equals("train") && out.size() < n) out.add(r.prompt());
        }
        return out;
    }

    @Test
    void savedProbeScoresAsTheFitInMemory() {
        List<String> texts = new ArrayList<>(prompts("harmful.jsonl", 12));
        texts.addAll(prompts("benign.jsonl", 12));
        boolean[] labels = new boolean[texts.size()];
        for (int i = 0; i < 12; i++) labels[i] = true;
        try (Model model = Model.load(organism("organism-chat")); Tokenizer t = Tokenizer.load(organism("organism-chat"))) {
            List<int[]> sequences = new ProbeData(texts, labels).encode(PromptFormat.chat(t, null, ""));
            ProbeStudy study = new ProbeStudy(model, new ProbeStudy.Settings(HookPoint.Kind.RESID_POST, -1, 3, 0, 1.0), 8);
            ProbeStudy.Report report = study.run(sequences, labels,
                    RunDirectory.openOrCreate(tmp, "probe", tmp.resolve("run"), RunDirectory.object()), s -> { });
            ProbeFile saved = study.fitFile(sequences, labels, report, 2, -1, "harm",
                    new ProbeFile.Metadata("organism-chat", "test data", "harmful request", 0, Map.of()));
            saved.write(tmp.resolve("harm.safetensors"));
            ProbeFile read = ProbeFile.read(tmp.resolve("harm.safetensors"));
            read.validateFor(model.config());

            assertThat(read.name()).isEqualTo("harm");
            assertThat(read.point().name()).isEqualTo("blocks.2.hook_resid_post");
            assertThat(read.head()).isEqualTo(-1);
            assertThat(read.metadata().label()).isEqualTo("harmful request");
            assertThat(read.metadata().accuracy()).isEqualTo(report.accuracyByLayer()[2]);
            assertThat(read.metadata().extra()).containsEntry("examples", "24");

            // The same activations through the in-memory fit and through the file: the same probabilities.
            float[][] x = new ActivationExtractor(model, 8).extract(sequences, -1, List.of("blocks.2.hook_resid_post"),
                    d -> { }).get("blocks.2.hook_resid_post");
            LinearProbe.Fit fit = new LinearProbe(1.0).fit(x, labels);
            int correct = 0;
            for (int i = 0; i < x.length; i++) {
                double z = fit.bias();
                for (int j = 0; j < x[i].length; j++) z += fit.weights()[j] * x[i][j];
                assertThat(read.probability(x[i])).isCloseTo(ProbeFile.sigmoid(z), within(1e-5));
                if ((read.probability(x[i]) > 0.5) == labels[i]) correct++;
            }
            assertThat(correct).isEqualTo(x.length);     // seen data: the organism's harm is linearly separable

            ModelConfig config = model.config();
            ProbeFile narrow = new ProbeFile("narrow", HookPoint.parse("blocks.2.hook_resid_post"), -1, new float[8], 0,
                    saved.metadata());
            assertThatThrownBy(() -> narrow.validateFor(config)).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("has 8 weights").hasMessageContaining("256");
            ProbeFile deep = new ProbeFile("deep", HookPoint.parse("blocks.9.hook_resid_post"), -1, new float[256], 0,
                    saved.metadata());
            assertThatThrownBy(() -> deep.validateFor(config)).hasMessageContaining("layer 9");
        }
    }

    @Test
    void malformedFilesAreReported() throws IOException {
        Path noFormat = tmp.resolve("plain.safetensors");
        new SafetensorsWriter().add("weight", DType.F32, new long[]{4}, new float[4]).write(noFormat);
        assertThatThrownBy(() -> ProbeFile.read(noFormat)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not a Vane probe");

        Path noBias = tmp.resolve("nobias.safetensors");
        probeHeader().add("weight", DType.F32, new long[]{4}, new float[4]).write(noBias);
        assertThatThrownBy(() -> ProbeFile.read(noBias)).hasMessageContaining("no tensor \"bias\"");

        Path badPoint = tmp.resolve("badpoint.safetensors");
        probeHeader().metadata("point", "blocks.x.nowhere").add("weight", DType.F32, new long[]{4}, new float[4])
                .add("bias", DType.F32, new long[]{1}, new float[1]).write(badPoint);
        assertThatThrownBy(() -> ProbeFile.read(badPoint)).hasMessageContaining("bad metadata");

        Path nan = tmp.resolve("nan.safetensors");
        probeHeader().add("weight", DType.F32, new long[]{2}, new float[]{1, Float.NaN})
                .add("bias", DType.F32, new long[]{1}, new float[1]).write(nan);
        assertThatThrownBy(() -> ProbeFile.read(nan)).hasMessageContaining("NaN");

        Path headOnResid = tmp.resolve("head.safetensors");
        probeHeader().metadata("head", "3").add("weight", DType.F32, new long[]{2}, new float[2])
                .add("bias", DType.F32, new long[]{1}, new float[1]).write(headOnResid);
        assertThatThrownBy(() -> ProbeFile.read(headOnResid)).hasMessageContaining("only read at attn.hook_z");
    }

    private static SafetensorsWriter probeHeader() {
        return new SafetensorsWriter().metadata("format", ProbeFile.FORMAT).metadata("point", "blocks.1.hook_resid_post")
                .metadata("standardisation", ProbeFile.FOLDED);
    }
}
