package dev.vane.core.generate;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Generation on the bundled organism without a tokenizer (ids only). */
class GeneratorTest {
    static Model model;
    static Generator generator;
    // "<|begin_of_text|><|start_header_id|>user..." would need the tokenizer; arbitrary ids are fine here.
    static final int[] PROMPT = {0, 5, 17, 300, 42, 99, 7, 1000, 12, 64};
    static final int[] SHORT = {0, 300, 42, 99};

    @BeforeAll
    static void load() {
        model = Model.load(Path.of(System.getProperty("vane.home", ".."), "models", "organism-chat"));
        generator = new Generator(model, null, new int[0]);   // no eos: always run to the token budget
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void kvCachePathMatchesFullRecomputationOver30Steps() {
        int steps = 30;
        Completion c = generator.generate(PROMPT, SamplingParams.greedy(steps), new Hooks());
        assertThat(c.tokenIds()).hasSize(steps);
        assertThat(c.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);

        int[] all = concat(PROMPT, c.tokenIds());
        KvCache cache = model.newCache(1, all.length);
        float[] cached = model.forward(Batch.of(PROMPT), new Hooks(), cache, LogitsMode.LAST).lastLogits(0);
        for (int step = 0; step < steps; step++) {
            int[] prefix = Arrays.copyOf(all, PROMPT.length + step);
            float[] full = model.forward(Batch.of(prefix), new Hooks()).lastLogits(0);
            assertThat(maxAbsDiff(cached, full)).as("step " + step).isLessThan(1e-4f);
            assertThat(Sampler.argmax(cached)).as("step " + step).isEqualTo(c.tokenIds()[step]);
            cached = model.forward(Batch.nextTokens(all[PROMPT.length + step]), new Hooks(), cache, LogitsMode.LAST).lastLogits(0);
        }
    }

    @Test
    void batchedGenerationEqualsOneAtATime() {
        SamplingParams p = SamplingParams.greedy(12).withTemperature(0.8).withTopP(0.9).withSeed(11);
        List<Completion> batch = generator.generate(List.of(PROMPT, SHORT), p, new Hooks(), TokenListener.none());
        Completion first = generator.generate(PROMPT, p, new Hooks());
        Completion second = generator.generate(List.of(SHORT), p.withSeed(12), new Hooks(), TokenListener.none()).getFirst();
        assertThat(batch.get(0).tokenIds()).isEqualTo(first.tokenIds());
        assertThat(batch.get(1).tokenIds()).isEqualTo(second.tokenIds());   // row r samples with seed + r
    }

    @Test
    void seededSamplingIsReproducible() {
        SamplingParams p = SamplingParams.greedy(20).withTemperature(1.5).withSeed(42);
        int[] a = generator.generate(PROMPT, p, new Hooks()).tokenIds();
        int[] b = generator.generate(PROMPT, p, new Hooks()).tokenIds();
        int[] c = generator.generate(PROMPT, p.withSeed(43), new Hooks()).tokenIds();
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void stopsOnEndOfSequenceIds() {
        int[] free = generator.generate(PROMPT, SamplingParams.greedy(10), new Hooks()).tokenIds();
        Generator stopping = new Generator(model, null, new int[]{free[3]});
        Completion c = stopping.generate(PROMPT, SamplingParams.greedy(10), new Hooks());
        int firstStop = 0;
        while (free[firstStop] != free[3]) firstStop++;
        assertThat(c.tokenIds()).isEqualTo(Arrays.copyOf(free, firstStop + 1));   // the eos id is included
        assertThat(c.finishReason()).isEqualTo(Completion.FinishReason.STOP);
    }

    @Test
    void hooksApplyAtEveryStep() {
        float[] v = new float[model.config().dModel()];
        v[3] = 40f;
        Hooks steer = new Hooks().add("blocks.2.hook_resid_post", v, 1f, Positions.all());
        int[] steered = generator.generate(PROMPT, SamplingParams.greedy(8), steer).tokenIds();
        int[] plain = generator.generate(PROMPT, SamplingParams.greedy(8), new Hooks()).tokenIds();
        assertThat(steered).isNotEqualTo(plain);
        // the same steering applied by hand, token by token with a full recomputation, gives the same ids
        int[] seq = PROMPT.clone();
        for (int step = 0; step < 8; step++) {
            int next = Sampler.argmax(model.forward(Batch.of(seq), steer).lastLogits(0));
            assertThat(next).as("step " + step).isEqualTo(steered[step]);
            seq = concat(seq, new int[]{next});
        }
    }

    @Test
    void promptLongerThanTheContextFails() {
        int[] tooLong = new int[model.config().maxPositions() + 1];
        assertThatThrownBy(() -> generator.generate(tooLong, SamplingParams.greedy(1), new Hooks()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("longer than the model's context")
                .hasMessageContaining("" + model.config().maxPositions());
    }

    @Test
    void generationStopsAtTheEndOfTheContext() {
        int[] nearlyFull = new int[model.config().maxPositions() - 3];
        Completion c = generator.generate(nearlyFull, SamplingParams.greedy(50), new Hooks());
        assertThat(c.tokenIds()).hasSize(3);
        assertThat(c.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
