package dev.vane.train.optim;

import dev.vane.core.InvalidInputException;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class AdamWTest {
    @TempDir
    Path tmp;

    /*
     * Expected values: torch.optim.AdamW's update written out in Python (float64), betas (0.9, 0.999), eps 1e-8,
     * weight decay 0.1 on "w" only, learning rates 0.1, 0.05, 0.02:
     *
     *   for t, (grads, lr) in enumerate(zip(steps, lrs), start=1):
     *       for p, g, decay in ...:
     *           if decay: p = p * (1 - lr * wd)
     *           m = b1 * m + (1 - b1) * g
     *           v = b2 * v + (1 - b2) * g * g
     *           p = p - (lr / (1 - b1**t)) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)
     *
     * after step 1: w = [0.395000009999999, -0.8900000049999998, 1.8800000033333333], b = [0.900000002]
     * after step 2: w = [0.37970815965169497, -0.8722331538343379, 1.8220823988150514], b = [0.8500000030000003]
     * after step 3: w = [0.3655387327542053, -0.8663711017740383, 1.8074003965936642], b = [0.8515129895937427]
     * m(w) = [0.0336, -0.0072, 0.0323], v(w) = [1.0247751e-4, 4.991004e-5, 1.3978009e-4]
     */
    private static final float[][] GRAD_W = {{0.1f, -0.2f, 0.3f}, {-0.05f, 0.1f, 0.2f}, {0.3f, 0.0f, -0.1f}};
    private static final float[][] GRAD_B = {{0.5f}, {0.5f}, {-1.0f}};
    private static final double[] LR = {0.1, 0.05, 0.02};
    private static final double[][] W_AFTER = {
            {0.395000009999999, -0.8900000049999998, 1.8800000033333333},
            {0.37970815965169497, -0.8722331538343379, 1.8220823988150514},
            {0.3655387327542053, -0.8663711017740383, 1.8074003965936642}};
    private static final double[] B_AFTER = {0.900000002, 0.8500000030000003, 0.8515129895937427};

    private static AdamW optimiser(float[] w, float[] gw, float[] b, float[] gb) {
        return new AdamW(List.of(new AdamW.Parameter("w", w, gw, true), new AdamW.Parameter("b", b, gb, false)),
                AdamW.Settings.defaults(0.1));
    }

    @Test
    void followsTorchAdamWForThreeSteps() {
        float[] w = {0.5f, -1.0f, 2.0f}, gw = new float[3], b = {1.0f}, gb = new float[1];
        AdamW opt = optimiser(w, gw, b, gb);
        for (int t = 0; t < 3; t++) {
            System.arraycopy(GRAD_W[t], 0, gw, 0, 3);
            gb[0] = GRAD_B[t][0];
            opt.step(LR[t]);
            for (int j = 0; j < 3; j++) assertThat((double) w[j]).as("w[%d] after step %d", j, t + 1).isCloseTo(W_AFTER[t][j], within(1e-6));
            assertThat((double) b[0]).as("b after step %d", t + 1).isCloseTo(B_AFTER[t], within(1e-6));
        }
        assertThat(opt.steps()).isEqualTo(3);
        assertThat(opt.firstMoment("w")).containsExactly(new float[]{0.0336f, -0.0072f, 0.0323f}, org.assertj.core.data.Offset.offset(1e-7f));
        assertThat(opt.secondMoment("w")).containsExactly(new float[]{1.0247751e-4f, 4.991004e-5f, 1.3978009e-4f},
                org.assertj.core.data.Offset.offset(1e-10f));
    }

    @Test
    void weightDecayIsDecoupledAndOnlyWhereAsked() {
        // With a zero gradient Adam's step is 0 (m = 0), so only the decay moves the weights: p * (1 - lr * wd).
        float[] w = {2.0f}, b = {2.0f};
        AdamW opt = optimiser(w, new float[1], b, new float[1]);
        opt.step(0.5);
        assertThat(w[0]).isEqualTo(2.0f * (1 - 0.5f * 0.1f));
        assertThat(b[0]).isEqualTo(2.0f);
    }

    @Test
    void conventionalWeightDecaySparesNormsAndBiases() {
        assertThat(AdamW.conventionalWeightDecay("model.layers.0.self_attn.q_proj.weight")).isTrue();
        assertThat(AdamW.conventionalWeightDecay("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")).isTrue();
        assertThat(AdamW.conventionalWeightDecay("model.layers.0.self_attn.q_proj.bias")).isFalse();
        assertThat(AdamW.conventionalWeightDecay("model.layers.0.input_layernorm.weight")).isFalse();
        assertThat(AdamW.conventionalWeightDecay("model.layers.0.self_attn.q_norm.weight")).isFalse();
        assertThat(AdamW.conventionalWeightDecay("model.norm.weight")).isFalse();
    }

    @Test
    void savedStateResumesTheSameTrajectory() throws IOException {
        float[] w = {0.5f, -1.0f, 2.0f}, gw = new float[3], b = {1.0f}, gb = new float[1];
        AdamW first = optimiser(w, gw, b, gb);
        for (int t = 0; t < 2; t++) {
            System.arraycopy(GRAD_W[t], 0, gw, 0, 3);
            gb[0] = GRAD_B[t][0];
            first.step(LR[t]);
        }
        Path file = tmp.resolve("optimizer.safetensors");
        first.save(file);

        // A fresh optimiser over copies of the weights, restored from the file, takes step 3 as the first would.
        float[] w2 = w.clone(), gw2 = new float[3], b2 = b.clone(), gb2 = new float[1];
        AdamW resumed = optimiser(w2, gw2, b2, gb2);
        resumed.load(file);
        assertThat(resumed.steps()).isEqualTo(2);
        assertThat(resumed.firstMoment("w")).containsExactly(first.firstMoment("w"));
        assertThat(resumed.secondMoment("b")).containsExactly(first.secondMoment("b"));

        System.arraycopy(GRAD_W[2], 0, gw, 0, 3);
        System.arraycopy(GRAD_W[2], 0, gw2, 0, 3);
        gb[0] = gb2[0] = GRAD_B[2][0];
        first.step(LR[2]);
        resumed.step(LR[2]);
        assertThat(w2).containsExactly(w);
        assertThat(b2).containsExactly(b);
        assertThat((double) w2[0]).isCloseTo(W_AFTER[2][0], within(1e-6));
    }

    @Test
    void loadRefusesStateOfOtherParameters() throws IOException {
        Path file = tmp.resolve("opt.safetensors");
        optimiser(new float[3], new float[3], new float[1], new float[1]).save(file);

        AdamW renamed = new AdamW(List.of(new AdamW.Parameter("w", new float[3], new float[3], true),
                new AdamW.Parameter("c", new float[1], new float[1], false)), AdamW.Settings.defaults(0.1));
        assertThatThrownBy(() -> renamed.load(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("missing c").hasMessageContaining("not in this run b");

        AdamW resized = optimiser(new float[4], new float[4], new float[1], new float[1]);
        assertThatThrownBy(() -> resized.load(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("parameter w has 3 elements in the optimiser state but 4 in this run");
        assertThat(resized.steps()).isZero();

        AdamW otherBetas = new AdamW(List.of(new AdamW.Parameter("w", new float[3], new float[3], true),
                new AdamW.Parameter("b", new float[1], new float[1], false)), new AdamW.Settings(0.9, 0.95, 1e-8, 0));
        assertThatThrownBy(() -> otherBetas.load(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("beta2 0.999, this run uses 0.95");
    }

    @Test
    void loadRefusesAFileThatIsNotOptimiserState() throws IOException {
        Path file = tmp.resolve("vector.safetensors");
        new SafetensorsWriter().add("exp_avg.w", DType.F32, new long[]{1}, new float[]{0}).write(file);
        AdamW opt = new AdamW(List.of(new AdamW.Parameter("w", new float[1], new float[1], true)), AdamW.Settings.defaults(0));
        assertThatThrownBy(() -> opt.load(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not a Vane AdamW state file");
    }

    @Test
    void largeParametersAreUpdatedLikeSmallOnes() {
        // Above the chunk size the update runs on the compute pool; every element must get the same update.
        int n = (1 << 16) * 3 + 5;
        float[] w = new float[n], g = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1f;
            g[i] = 0.25f;
        }
        AdamW opt = new AdamW(List.of(new AdamW.Parameter("big", w, g, true)), AdamW.Settings.defaults(0.1));
        opt.step(0.1);
        float[] small = {1f}, gs = {0.25f};
        new AdamW(List.of(new AdamW.Parameter("s", small, gs, true)), AdamW.Settings.defaults(0.1)).step(0.1);
        for (int i = 0; i < n; i++) assertThat(w[i]).isEqualTo(small[0]);
    }

    @Test
    void rejectsBadSettingsAndDuplicateNames() {
        assertThatThrownBy(() -> new AdamW.Settings(1.0, 0.999, 1e-8, 0)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> AdamW.Settings.defaults(-1)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> new AdamW(List.of(new AdamW.Parameter("x", new float[1], new float[1], true),
                new AdamW.Parameter("x", new float[1], new float[1], true)), AdamW.Settings.defaults(0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AdamW.Parameter("x", new float[2], new float[1], true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
