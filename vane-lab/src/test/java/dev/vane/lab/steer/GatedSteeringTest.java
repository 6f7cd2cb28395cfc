package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.probe.ProbeFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Gated steering in one batch: a probe at blocks.1.hook_resid_post reads each row's prompt end in the same forward
 * pass, and each row is steered exactly as the constant vector steers it when its probe fires and exactly as no
 * steering leaves it when it does not. Compared value by value with runs of the same batch.
 */
class GatedSteeringTest {
    static final String PROBE_POINT = "blocks.1.hook_resid_post";
    static final String STEER_POINT = "blocks.3.hook_resid_post";
    static final String READ = "blocks.5.hook_resid_post";
    static final float SCALE = 6f;
    static final String[] PROMPTS = {"How do I build a bomb?", "How do I bake bread?", "Please help me make a poison.",
            "Give me step-by-step instructions to plant a tree."};
    static Model model;
    static int[][] prompts;
    static int[] promptEnd;
    static ProbeFile probe;
    static double[] logits;          // the probe's log-odds per row, computed here from an unsteered run
    static SteeringVector vector;
    static SteeringVector alsoEarly;     // the same plus a component at blocks.0, before the probe's point

    @BeforeAll
    static void load() {
        model = LabModels.organismModel();
        try (Tokenizer t = LabModels.organismTokenizer()) {
            prompts = new int[PROMPTS.length][];
            promptEnd = new int[PROMPTS.length];
            for (int i = 0; i < PROMPTS.length; i++) {
                prompts[i] = ChatPrompt.encode(t, List.of(ChatMessage.user(PROMPTS[i])), "");
                promptEnd[i] = prompts[i].length - 1;
            }
        }
        int d = model.config().dModel();
        ActivationCache plain = new ActivationCache();
        model.forward(Batch.of(prompts), new Hooks().cache(plain, PROBE_POINT), model.newCache(prompts.length, 64), LogitsMode.LAST);
        // A probe along (row 0 - row 1) at the prompt ends, its bias halfway between the two rows: row 0 fires, row 1 not.
        float[] w = new float[d];
        for (int i = 0; i < d; i++) w[i] = (plain.get(PROBE_POINT, 0).get(promptEnd[0], i) - plain.get(PROBE_POINT, 1).get(promptEnd[1], i)) * 0.05f;
        double[] dots = new double[prompts.length];
        for (int r = 0; r < prompts.length; r++) {
            float[] x = new float[d];
            for (int i = 0; i < d; i++) x[i] = plain.get(PROBE_POINT, r).get(promptEnd[r], i);
            dots[r] = new ProbeFile("p", HookPoint.parse(PROBE_POINT), -1, w, 0, meta()).dot(x, 0, 0, d);
        }
        double bias = -(dots[0] + dots[1]) / 2;
        probe = new ProbeFile("harm", HookPoint.parse(PROBE_POINT), -1, w, bias, meta());
        logits = new double[prompts.length];
        for (int r = 0; r < prompts.length; r++) logits[r] = dots[r] + bias;
        float[] v = new float[d];
        for (int i = 0; i < d; i++) v[i] = ((i % 7) - 3) * 0.05f;
        SteeringVector.Metadata all = new SteeringVector.Metadata("custom", "", "", PositionRule.ALL, 1, 1, "", Map.of());
        vector = new SteeringVector("v", List.of(new SteeringVector.Component(STEER_POINT, null, v)), all, 0);
        alsoEarly = new SteeringVector("v", List.of(new SteeringVector.Component("blocks.0.hook_resid_post", null, v),
                new SteeringVector.Component(STEER_POINT, null, v)), all, 0);
    }

    static ProbeFile.Metadata meta() {
        return new ProbeFile.Metadata("organism-chat", "test", "row 0 like", 1, Map.of());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Per row, the values at {@code point} over the prompt's call and two decode steps. */
    static FloatTensor[] run(Steering steering, GateReadings[] readings, String point) {
        ActivationCache cache = new ActivationCache();
        Hooks hooks = steering.hooks(prompts.length, promptEnd, false, readings);
        hooks.cache(cache, point);
        KvCache kv = model.newCache(prompts.length, 64);
        model.forward(Batch.of(prompts), hooks, kv, LogitsMode.LAST);
        int[] next = new int[prompts.length];
        Arrays.fill(next, 100);
        model.forward(Batch.nextTokens(next), hooks, kv, LogitsMode.LAST);
        Arrays.fill(next, 110);
        model.forward(Batch.nextTokens(next), hooks, kv, LogitsMode.LAST);
        FloatTensor[] out = new FloatTensor[prompts.length];
        for (int r = 0; r < out.length; r++) out[r] = cache.get(point, r);
        return out;
    }

    static FloatTensor[] run(Steering steering) {
        return run(steering, steering.newReadings(prompts.length), READ);
    }

    @Test
    void aMixedBatchSteersExactlyTheRowsWhoseProbeFires() {
        FloatTensor[] plain = run(Steering.none()), constant = run(Steering.of(vector, SCALE));
        Steering gated = Steering.none().with(vector, SCALE, Gate.above(probe, 0.5));
        GateReadings[] readings = gated.newReadings(prompts.length);
        FloatTensor[] out = run(gated, readings, READ);
        int fired = 0;
        for (int r = 0; r < prompts.length; r++) {
            assertThat(constant[r].data()).as("the vector changes row %d", r).isNotEqualTo(plain[r].data());
            Steering.Decision d = gated.decisions(readings[r]).getFirst();
            assertThat(d.probability()).isCloseTo(ProbeFile.sigmoid(logits[r]), within(1e-9));
            assertThat(d.fired()).isEqualTo(logits[r] > 0);
            assertThat(d.appliedScale()).isEqualTo(d.fired() ? SCALE : 0);
            assertThat(out[r].data()).as("row %d", r).isEqualTo(d.fired() ? constant[r].data() : plain[r].data());
            if (d.fired()) fired++;
        }
        assertThat(gated.decisions(readings[0]).getFirst().fired()).isTrue();
        assertThat(gated.decisions(readings[1]).getFirst().fired()).isFalse();
        assertThat(fired).isBetween(1, prompts.length - 1);
    }

    @Test
    void thresholdZeroIsTheConstantVectorAndThresholdOneIsNone() {
        FloatTensor[] plain = run(Steering.none()), constant = run(Steering.of(vector, SCALE));
        FloatTensor[] always = run(Steering.none().with(vector, SCALE, Gate.above(probe, 0)));
        FloatTensor[] never = run(Steering.none().with(vector, SCALE, Gate.above(probe, 1)));
        for (int r = 0; r < prompts.length; r++) {
            assertThat(always[r].data()).isEqualTo(constant[r].data());
            assertThat(never[r].data()).isEqualTo(plain[r].data());
        }
    }

    @Test
    void theSoftFormScalesEachRowByItsProbability() {
        Steering soft = Steering.none().with(vector, SCALE, Gate.soft(probe));
        GateReadings[] readings = soft.newReadings(prompts.length);
        FloatTensor[] out = run(soft, readings, READ);
        for (int r = 0; r < prompts.length; r++) {
            double p = ProbeFile.sigmoid(logits[r]);
            Steering.Decision d = soft.decisions(readings[r]).getFirst();
            assertThat(d.appliedScale()).isCloseTo(SCALE * p, within(1e-9));
            float scale = (float) (SCALE * d.probability());
            assertThat(out[r].data()).as("row %d at %s x %s", r, SCALE, p)
                    .isEqualTo(run(Steering.of(vector, scale))[r].data());
        }
    }

    @Test
    void beforeTheProbesPointOnlyGeneratedTokensAreSteered() {
        String early = "blocks.0.hook_resid_post";
        Steering gated = Steering.none().with(alsoEarly, SCALE, Gate.above(probe, 0));
        FloatTensor[] plain = run(Steering.none(), Steering.none().newReadings(prompts.length), early);
        FloatTensor[] constant = run(Steering.of(alsoEarly, SCALE), Steering.none().newReadings(prompts.length), early);
        FloatTensor[] out = run(gated, gated.newReadings(prompts.length), early);
        for (int r = 0; r < prompts.length; r++) {
            int positions = out[r].dim(0), d = out[r].dim(1);
            for (int p = 0; p < positions; p++) {
                FloatTensor expected = p <= promptEnd[r] ? plain[r] : constant[r];
                for (int i = 0; i < d; i++) assertThat(out[r].get(p, i)).isEqualTo(expected.get(p, i));
            }
        }
    }

    @Test
    void gateArithmeticAndLimits() {
        Gate above = Gate.above(probe, 0.5);
        assertThat(above.factor(0.5)).isZero();
        assertThat(above.factor(0.51)).isEqualTo(1);
        assertThat(above.factor(Double.NaN)).isZero();
        assertThat(Gate.above(probe, 0).factor(0)).isEqualTo(1);
        assertThat(Gate.soft(probe).factor(0.3)).isEqualTo(0.3);
        assertThat(above.toString()).isEqualTo("harm>0.5");
        assertThat(Gate.soft(probe).toString()).isEqualTo("harm~");
        assertThatThrownBy(() -> Gate.above(probe, 1.5)).isInstanceOf(InvalidInputException.class);
        Steering gated = Steering.none().with(vector, SCALE, above);
        assertThat(gated.toString()).isEqualTo("v:6.0 when harm>0.5");
        assertThat(gated.scaled(2f).terms().getFirst().scale()).isEqualTo(12f);
        assertThat(gated.scaled(2f).terms().getFirst().gate()).isSameAs(above);
        assertThatThrownBy(() -> gated.hooks(1, new int[]{3}, true)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("gated steering");
    }
}
