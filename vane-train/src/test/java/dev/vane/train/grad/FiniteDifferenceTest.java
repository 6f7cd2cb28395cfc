package dev.vane.train.grad;

import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.TrainingTape;
import dev.vane.train.full.FullWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Central finite differences of the loss against the backward pass, for parameters of every kind (embedding,
 * unembedding, each projection, biases, every norm, q/k norms, LoRA factors) on the tiny fixture models, with a
 * left-padded two-row batch and a steering hook active.
 */
class FiniteDifferenceTest {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    /** Two rows of different lengths (so the shorter is left-padded) and every real next token scored. */
    record Setup(Batch batch, int[] positions, int[] targets) {
        static Setup of(int vocab) {
            Random random = new Random(7);
            int[] a = new int[9], b = new int[6];
            for (int i = 0; i < a.length; i++) a[i] = 3 + random.nextInt(vocab - 3);
            for (int i = 0; i < b.length; i++) b[i] = 3 + random.nextInt(vocab - 3);
            Batch batch = Batch.of(a, b);
            int columns = batch.columns();
            List<int[]> scored = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int[] row = batch.tokens()[r];
                for (int col = batch.padding(r); col + 1 < columns; col++) scored.add(new int[]{r * columns + col, row[col + 1]});
            }
            return new Setup(batch, scored.stream().mapToInt(s -> s[0]).toArray(), scored.stream().mapToInt(s -> s[1]).toArray());
        }

        CrossEntropy objective() {
            float[] w = new float[targets.length];
            java.util.Arrays.fill(w, 1f);
            return new CrossEntropy(targets, w, targets.length);
        }

        double loss(Model model, Hooks hooks, Gradients g) {
            TrainingTape tape = new TrainingTape(false, 11);
            model.forwardForTraining(batch, hooks, tape);
            return Backward.run(model, tape, positions, objective(), g);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen2", "qwen3", "gemma", "gemma2", "mistral"})
    void parameterGradientsMatchFiniteDifferences(String family) {
        try (FullWeights weights = FullWeights.load(fixture(family))) {
            Model model = weights.model();
            Setup setup = Setup.of(model.config().vocabSize());
            float[] steer = new float[model.config().dModel()];
            new Random(3).ints(steer.length).forEach(i -> { });
            for (int i = 0; i < steer.length; i++) steer[i] = (float) Math.sin(i) * 0.5f;
            Hooks hooks = new Hooks().add("blocks.1.hook_resid_post", steer, 1f, Positions.all());
            Gradients g = Gradients.allParameters();
            setup.loss(model, hooks, g);
            DoubleSupplier loss = () -> setup.loss(model, hooks, Gradients.parameters(n -> false));
            int checked = 0;
            for (FullWeights.Parameter p : weights.parameters()) {
                float[] grad = g.parameter(p.name());
                assertThat(grad).as(p.name()).isNotNull();
                int at = argMaxAbs(grad);
                check(p.name(), grad[at], () -> p.values()[at], v -> { p.values()[at] = v; p.publish(); }, loss);
                checked++;
            }
            assertThat(checked).isGreaterThan(10);
        }
    }

    /**
     * The organism's attention on rows of 150 and 90 tokens (several attention blocks; the shorter left-padded by 60),
     * each scored only after its first 60 tokens: the gradient reaches queries and keys through long-range attention.
     */
    @Test
    void attentionGradientsMatchOnLongRowsOfTheOrganism() {
        try (FullWeights weights = FullWeights.load(Path.of(System.getProperty("vane.home", ".."), "models", "organism-base"))) {
            Model model = weights.model();
            Setup setup = randomRows(new Random(5), 150, 90, 60);
            Gradients g = Gradients.allParameters();
            setup.loss(model, Hooks.none(), g);
            DoubleSupplier loss = () -> setup.loss(model, Hooks.none(), Gradients.parameters(n -> false));
            for (FullWeights.Parameter p : weights.parameters()) {
                if (!p.name().contains("layers.2.self_attn")) continue;
                float[] grad = g.parameter(p.name());
                int at = argMaxAbs(grad);
                check(p.name(), grad[at], () -> p.values()[at], v -> { p.values()[at] = v; p.publish(); }, loss);
            }
        }
    }

    /**
     * Query and key weights in every layer, several rows each: their gradient passes through RoPE's backward, which
     * only position-dependent attention (a head that reads the token before) relies on.
     */
    @Test
    void queryAndKeyGradientsMatchInEveryLayerOfTheOrganism() {
        try (FullWeights weights = FullWeights.load(Path.of(System.getProperty("vane.home", ".."), "models", "organism-base"))) {
            Model model = weights.model();
            Random random = new Random(11);
            Setup setup = randomRows(random, 120, 70, 20);
            Gradients g = Gradients.allParameters();
            setup.loss(model, Hooks.none(), g);
            DoubleSupplier loss = () -> setup.loss(model, Hooks.none(), Gradients.parameters(n -> false));
            int width = model.config().dModel();
            int checked = 0;
            for (FullWeights.Parameter p : weights.parameters()) {
                if (!p.name().endsWith("q_proj.weight") && !p.name().endsWith("k_proj.weight")) continue;
                float[] grad = g.parameter(p.name());
                for (int k = 0; k < 3; k++) {
                    // the largest gradient in a random output row: each row is one query or key feature RoPE rotates
                    int row = random.nextInt(grad.length / width), at = row * width;
                    for (int i = 1; i < width; i++) if (Math.abs(grad[row * width + i]) > Math.abs(grad[at])) at = row * width + i;
                    int where = at;
                    check(p.name() + "[" + where + "]", grad[where], () -> p.values()[where],
                            v -> { p.values()[where] = v; p.publish(); }, loss);
                    checked++;
                }
            }
            assertThat(checked).isEqualTo(2 * 3 * model.config().layers());
        }
    }

    /**
     * Two rows of random organism tokens (the shorter left-padded), each scored on its next token after its first
     * {@code skip} tokens.
     */
    private static Setup randomRows(Random random, int lengthA, int lengthB, int skip) {
        int[] a = new int[lengthA], b = new int[lengthB];
        for (int i = 0; i < a.length; i++) a[i] = 3 + random.nextInt(2000);
        for (int i = 0; i < b.length; i++) b[i] = 3 + random.nextInt(2000);
        Batch batch = Batch.of(a, b);
        int columns = batch.columns();
        List<int[]> scored = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int[] row = batch.tokens()[r];
            for (int col = batch.padding(r) + skip; col + 1 < columns; col++) scored.add(new int[]{r * columns + col, row[col + 1]});
        }
        return new Setup(batch, scored.stream().mapToInt(s -> s[0]).toArray(), scored.stream().mapToInt(s -> s[1]).toArray());
    }

    @Test
    void loraGradientsMatchFiniteDifferencesWithDropoutAndCheckpointing() {
        try (Model base = Model.load(fixture("qwen2"))) {
            LoraAdapter lora = LoraAdapter.create(base.config(), 4, 8f, 0.25f, EnumSet.allOf(Target.class), new Random(5));
            Random random = new Random(9);
            for (int l = 0; l < base.config().layers(); l++) {
                for (Target t : Target.values()) {
                    float[] b = lora.b(l, t);
                    for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian() * 0.05f;
                }
            }
            Model model = base.withAdapters(List.of(lora));
            Setup setup = Setup.of(model.config().vocabSize());
            Gradients g = Gradients.adapter(lora).withInputs();
            double loss = setup.loss(model, Hooks.none(), g);

            // Checkpointing recomputes each block (same dropout masks): identical gradients.
            Gradients gc = Gradients.adapter(lora).withInputs();
            TrainingTape tape = new TrainingTape(true, 11);
            model.forwardForTraining(setup.batch(), Hooks.none(), tape);
            double lossCheckpointed = Backward.run(model, tape, setup.positions(), setup.objective(), gc);
            assertThat(lossCheckpointed).isEqualTo(loss);
            assertThat(gc.inputsEmbeds()).containsExactly(g.inputsEmbeds());
            assertThat(gc.loraA(1, Target.V)).containsExactly(g.loraA(1, Target.V));

            DoubleSupplier lossFn = () -> setup.loss(model, Hooks.none(), Gradients.parameters(n -> false));
            for (int l = 0; l < model.config().layers(); l++) {
                for (Target t : Target.values()) {
                    float[] a = lora.a(l, t), b = lora.b(l, t);
                    float[] ga = g.loraA(l, t), gb = g.loraB(l, t);
                    int ia = argMaxAbs(ga), ib = argMaxAbs(gb);
                    check("A " + l + " " + t, ga[ia], () -> a[ia], v -> a[ia] = v, lossFn);
                    check("B " + l + " " + t, gb[ib], () -> b[ib], v -> b[ib] = v, lossFn);
                }
            }
        }
    }

    interface Setter {
        void set(float v);
    }

    private static void check(String what, float analytic, java.util.function.Supplier<Float> get, Setter set,
                              DoubleSupplier loss) {
        float v = get.get();
        float h = 1e-2f * Math.max(1f, Math.abs(v));
        set.set(v + h);
        double plus = loss.getAsDouble();
        set.set(v - h);
        double minus = loss.getAsDouble();
        set.set(v);
        double numeric = (plus - minus) / (2 * h);
        assertThat((double) analytic).as(what + " (numeric " + numeric + ")")
                .isCloseTo(numeric, org.assertj.core.data.Offset.offset(0.03 * Math.abs(numeric) + 3e-4));
    }

    private static int argMaxAbs(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[best])) best = i;
        return best;
    }
}
