package dev.vane.train.run;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.TrainingTape;
import dev.vane.train.data.TrainingExample;
import dev.vane.train.grad.Backward;
import dev.vane.train.grad.ConstraintBetas;
import dev.vane.train.grad.CrossEntropy;
import dev.vane.train.grad.Gradients;
import dev.vane.train.grad.TokenwiseConstrained;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The constrained objective through the whole model (the qwen2 fixture with a LoRA adapter as the fine-tuned model,
 * the bare fixture as the reference): its gradient against finite differences of the objective itself, against
 * the frozen-weight surrogate where the clamp acts, and against plain cross-entropy where the two models agree.
 */
class ConstrainedLossTest {
    static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    /**
     * Two examples of different lengths (the shorter left-padded); the first trains on one response of 7 tokens, the
     * second on two responses (2 and 3 tokens), so the betas restart.
     */
    static ScoredBatch batch(int vocab) {
        Random random = new Random(7);
        int[] a = new int[10], b = new int[8];
        for (int i = 0; i < a.length; i++) a[i] = 3 + random.nextInt(vocab - 3);
        for (int i = 0; i < b.length; i++) b[i] = 3 + random.nextInt(vocab - 3);
        return ScoredBatch.of(List.of(
                new TrainingExample(a, new float[]{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}),
                new TrainingExample(b, new float[]{0, 0, 1, 1, 0, 1, 1, 1})));
    }

    /** A rank-4 adapter on every target with random B, so the tuned model differs from the reference. */
    static LoraAdapter adapter(Model base, double bScale) {
        LoraAdapter lora = LoraAdapter.create(base.config(), 4, 8f, 0f, EnumSet.allOf(Target.class), new Random(5));
        Random random = new Random(9);
        for (int l = 0; l < base.config().layers(); l++) {
            for (Target t : Target.values()) {
                float[] w = lora.b(l, t);
                for (int i = 0; i < w.length; i++) w[i] = (float) (random.nextGaussian() * bScale);
            }
        }
        return lora;
    }

    private static double backward(Model model, ScoredBatch batch, dev.vane.train.grad.Objective objective, Gradients g) {
        TrainingTape tape = new TrainingTape(false, 11);
        model.forwardForTraining(batch.batch(), Hooks.none(), tape);
        return Backward.run(model, tape, batch.positions(), objective, g);
    }

    @Test
    void responseIndicesRestartAtEachRunOfTrainedTokens() {
        ScoredBatch b = batch(100);
        assertThat(b.responseIndex()).containsExactly(0, 1, 2, 3, 4, 5, 6, 0, 1, 0, 1, 2);
        assertThat(b.rows()).containsExactly(0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1);
        // row 1 is padded by 2: its token 2 is predicted at column 2 + 1 = 3 of the batch
        assertThat(b.positions()[7]).isEqualTo(10 + 2 + 1);
        assertThat(b.tokens()).isEqualTo(18);
    }

    @Test
    void whereTheModelIsItsOwnReferenceEveryWeightIsOneAndTheGradientIsCrossEntropys() {
        try (Model base = Model.load(fixture("qwen2"))) {
            LoraAdapter lora = adapter(base, 0.05);
            Model tuned = base.withAdapters(List.of(lora));
            ScoredBatch batch = batch(base.config().vocabSize());
            double norm = 12;
            TokenwiseConstrained constrained = new ConstrainedLoss(tuned, ConstraintBetas.paper(), 1e-3).objective(batch, norm);
            Gradients gc = Gradients.adapter(lora);
            double lc = backward(tuned, batch, constrained, gc);
            Gradients ge = Gradients.adapter(lora);
            double le = backward(tuned, batch, new CrossEntropy(batch.targets(), batch.weights(), norm), ge);

            assertThat(lc).isCloseTo(le, within(1e-5 * le));
            assertThat(constrained.crossEntropy()).isCloseTo(le, within(1e-5 * le));
            assertThat(constrained.weightSum()).isCloseTo(1.0, within(1e-5));
            float[] a = gc.loraA(1, Target.V), e = ge.loraA(1, Target.V);
            for (int i = 0; i < a.length; i++) assertThat(a[i]).isCloseTo(e[i], within(1e-5f * (1 + Math.abs(e[i]))));
        }
    }

    @Test
    void theGradientIsTheObjectivesByFiniteDifferences() {
        try (Model base = Model.load(fixture("qwen2"))) {
            LoraAdapter lora = adapter(base, 0.05);
            Model tuned = base.withAdapters(List.of(lora));
            ScoredBatch batch = batch(base.config().vocabSize());
            double norm = 12;
            ConstraintBetas betas = ConstraintBetas.paper();
            double[] reference = ConstrainedLoss.referenceLogProbs(base, batch);
            Gradients g = Gradients.adapter(lora);
            backward(tuned, batch, new ConstrainedLoss(base, betas, 1e-3).objective(batch, norm), g);

            // L = sum_t (2 / beta_t) -log sigmoid(beta_t delta_t) / norm, delta_t from an ordinary forward
            DoubleSupplier objective = () -> {
                double[] policy = ConstrainedLoss.referenceLogProbs(tuned, batch);
                double sum = 0;
                for (int t = 0; t < policy.length; t++) {
                    double beta = betas.beta(batch.responseIndex()[t]);
                    double delta = policy[t] - reference[t];
                    assertThat(TokenwiseConstrained.weight(delta, beta, 0)).as("clamp inactive").isGreaterThan(1e-3);
                    sum += batch.weights()[t] * TokenwiseConstrained.objective(delta, beta);
                }
                return sum / norm;
            };
            checkAdapter(lora, g, objective);
        }
    }

    @Test
    void whereTheClampActsTheGradientIsTheFrozenWeightSurrogates() {
        try (Model base = Model.load(fixture("qwen2"))) {
            LoraAdapter lora = adapter(base, 0.05);
            Model tuned = base.withAdapters(List.of(lora));
            ScoredBatch batch = batch(base.config().vocabSize());
            double norm = 12;
            ConstraintBetas betas = ConstraintBetas.of(1000);   // beta delta beyond 7.6 clamps the weight at 1e-3
            double[] reference = ConstrainedLoss.referenceLogProbs(base, batch);
            double[] start = ConstrainedLoss.referenceLogProbs(tuned, batch);
            double[] c = new double[start.length];
            int clamped = 0;
            for (int t = 0; t < c.length; t++) {
                c[t] = TokenwiseConstrained.weight(start[t] - reference[t], 1000, 1e-3);
                if (c[t] == 1e-3) clamped++;
            }
            assertThat(clamped).as("clamped tokens").isBetween(1, c.length - 1);
            Gradients g = Gradients.adapter(lora);
            backward(tuned, batch, new ConstrainedLoss(base, betas, 1e-3).objective(batch, norm), g);

            // sum_t w_t c_t (-log p_t) / norm with c fixed at its value before the perturbation (stop-gradient)
            DoubleSupplier surrogate = () -> {
                double[] policy = ConstrainedLoss.referenceLogProbs(tuned, batch);
                double sum = 0;
                for (int t = 0; t < policy.length; t++) sum += batch.weights()[t] * c[t] * -policy[t];
                return sum / norm;
            };
            checkAdapter(lora, g, surrogate);
        }
    }

    /** The largest gradient entry of A and B of a few layers and targets, against central differences. */
    private static void checkAdapter(LoraAdapter lora, Gradients g, DoubleSupplier loss) {
        for (int l = 0; l < 2; l++) {
            for (Target t : new Target[]{Target.Q, Target.V, Target.DOWN}) {
                float[] a = lora.a(l, t), b = lora.b(l, t);
                float[] ga = g.loraA(l, t), gb = g.loraB(l, t);
                int ia = argMaxAbs(ga), ib = argMaxAbs(gb);
                check("A " + l + " " + t, ga[ia], a, ia, loss);
                check("B " + l + " " + t, gb[ib], b, ib, loss);
            }
        }
    }

    private static void check(String what, float analytic, float[] values, int at, DoubleSupplier loss) {
        float v = values[at];
        float h = 1e-2f * Math.max(1f, Math.abs(v));
        values[at] = v + h;
        double plus = loss.getAsDouble();
        values[at] = v - h;
        double minus = loss.getAsDouble();
        values[at] = v;
        double numeric = (plus - minus) / (2 * h);
        assertThat((double) analytic).as(what + " (numeric " + numeric + ")")
                .isCloseTo(numeric, within(0.03 * Math.abs(numeric) + 3e-4));
    }

    private static int argMaxAbs(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[best])) best = i;
        return best;
    }
}
