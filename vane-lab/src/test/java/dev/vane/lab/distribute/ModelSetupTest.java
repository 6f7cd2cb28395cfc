package dev.vane.lab.distribute;

import dev.vane.core.tensor.Compute;
import dev.vane.lab.LabFiles;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What an executor reads to load the driver's model: the folder, the adapters and the driver's precision. */
class ModelSetupTest {
    @Test
    void theDriversPrecisionTravelsWithTheSetupAndTheLoadedModelUsesIt() {
        ModelSetup bf16 = new ModelSetup(LabFiles.organism("organism-chat"), List.of(), Compute.BF16);
        assertThat(bf16.json().get("compute").asText()).isEqualTo("bf16");
        ModelSetup read = ModelSetup.fromJson(bf16.json());
        assertThat(read).isEqualTo(bf16);
        assertThat(read.load().model().compute()).isEqualTo(Compute.BF16);

        // a setup written before the field existed loads in the executor's own default
        var old = bf16.json();
        old.remove("compute");
        assertThat(ModelSetup.fromJson(old).compute()).isEqualTo(Compute.byDefault());
        // the same folder in another precision is another loaded model, not the cached bf16 one
        ModelSetup f32 = new ModelSetup(LabFiles.organism("organism-chat"), List.of(), Compute.F32);
        assertThat(f32.load().model().compute()).isEqualTo(Compute.F32);
    }
}
