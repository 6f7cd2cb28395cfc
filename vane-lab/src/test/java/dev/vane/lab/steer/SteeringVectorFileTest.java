package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SteeringVectorFileTest {
    @TempDir
    Path dir;

    static SteeringVector mixed() {
        float[] resid = {1f, -2f, 0.5f, 0f};
        float[] z = new float[3 * 2];        // 3 heads x d_head 2, heads 0 and 2 used
        z[0] = 1f; z[1] = 2f; z[4] = -3f; z[5] = 4f;
        SteeringVector.Metadata meta = new SteeringVector.Metadata("custom", "tiny", "positive = more", PositionRule.FROM_PROMPT_END,
                2.5, 1.0, "hand-made", Map.of("note", "test"));
        return new SteeringVector("mixed", List.of(
                new SteeringVector.Component("blocks.1.hook_resid_post", null, resid),
                new SteeringVector.Component("blocks.2.attn.hook_z", new int[]{0, 2}, z)), meta, 2);
    }

    @Test
    void roundTripKeepsValuesHeadsAndMetadata() {
        Path file = dir.resolve("mixed.safetensors");
        mixed().write(file);
        SteeringVector back = SteeringVector.read(file);
        assertThat(back.name()).isEqualTo("mixed");
        assertThat(back.components()).hasSize(2);
        assertThat(back.components().get(0).point()).isEqualTo("blocks.1.hook_resid_post");
        assertThat(back.components().get(0).values()).containsExactly(1f, -2f, 0.5f, 0f);
        assertThat(back.components().get(1).heads()).containsExactly(0, 2);
        assertThat(back.components().get(1).head(2, 2)).containsExactly(-3f, 4f);
        assertThat(back.headsSpec()).isEqualTo("2:0,2:2");
        assertThat(back.headDim()).isEqualTo(2);
        SteeringVector.Metadata m = back.metadata();
        assertThat(m.method()).isEqualTo("custom");
        assertThat(m.positions()).isEqualTo(PositionRule.FROM_PROMPT_END);
        assertThat(m.recommendedScale()).isEqualTo(2.5);
        assertThat(m.data()).isEqualTo("hand-made");
        assertThat(m.extra()).containsEntry("note", "test");
    }

    @Test
    void sparsifiedKeepsTheLargestEntriesOnly() {
        SteeringVector sparse = mixed().sparsified(0.5);
        assertThat(sparse.components().get(0).values()).containsExactly(1f, -2f, 0f, 0f);
        assertThat(sparse.components().get(1).values()).isEqualTo(mixed().components().get(1).values());  // heads untouched
        assertThat(sparse.metadata().sparsity()).isEqualTo(0.5);
        assertThat(SteeringVector.keepLargest(new float[]{0.1f, -0.4f, 0.3f, 0.2f, 0f}, 0.05)).containsExactly(0f, -0.4f, 0f, 0f, 0f);
    }

    @Test
    void rejectsFilesThatAreNotSteeringVectors() throws Exception {
        Path plain = dir.resolve("plain.safetensors");
        new SafetensorsWriter().add("blocks.1.hook_resid_post", DType.F32, new long[]{4}, new float[4]).write(plain);
        assertThatThrownBy(() -> SteeringVector.read(plain)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not a Vane steering vector");

        Path noHeads = dir.resolve("noheads.safetensors");
        new SafetensorsWriter().metadata("format", SteeringVector.FORMAT)
                .add("blocks.1.attn.hook_z", DType.F32, new long[]{2, 2}, new float[4]).write(noHeads);
        assertThatThrownBy(() -> SteeringVector.read(noHeads)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("lists no head");

        Path badName = dir.resolve("badname.safetensors");
        new SafetensorsWriter().metadata("format", SteeringVector.FORMAT)
                .add("model.layers.1.weight", DType.F32, new long[]{4}, new float[4]).write(badName);
        assertThatThrownBy(() -> SteeringVector.read(badName)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not named by a hook point");

        Path nan = dir.resolve("nan.safetensors");
        new SafetensorsWriter().metadata("format", SteeringVector.FORMAT)
                .add("blocks.1.hook_resid_post", DType.F32, new long[]{2}, new float[]{1f, Float.NaN}).write(nan);
        assertThatThrownBy(() -> SteeringVector.read(nan)).isInstanceOf(InvalidInputException.class).hasMessageContaining("NaN");
    }

    @ParameterizedTest
    @CsvSource({"recommended_scale, NaN, finite", "recommended_scale, 1e400, finite", "recommended_scale, big, not a number",
            "sparsity, 0, '(0, 1]'", "sparsity, Infinity, finite"})
    void impossibleMetadataNamesTheFileAndTheKey(String key, String value, String problem) throws Exception {
        Path file = dir.resolve("meta.safetensors");
        new SafetensorsWriter().metadata("format", SteeringVector.FORMAT).metadata(key, value)
                .add("blocks.1.hook_resid_post", DType.F32, new long[]{2}, new float[]{1f, 2f}).write(file);
        assertThatThrownBy(() -> SteeringVector.read(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContainingAll(file.toString(), "bad metadata", key, problem);
    }

    @Test
    void validateForNamesTheMismatch() {
        ModelConfig organism = ModelConfig.read(LabModels.organism());
        assertThatThrownBy(() -> mixed().validateFor(organism)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("the model needs 256");
    }
}
