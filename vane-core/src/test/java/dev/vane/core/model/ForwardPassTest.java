package dev.vane.core.model;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.TensorSource;
import dev.vane.core.tensor.FloatTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Behaviour of the forward pass and its hooks that the reference parity checks do not cover. */
class ForwardPassTest {
    private static final String[] FAMILIES = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"};
    private static final Map<String, Model> MODELS = new HashMap<>();

    @BeforeAll
    static void load() {
        for (String f : FAMILIES) MODELS.put(f, Model.load(Fixtures.dir(f)));
        // Several tests compare two calls bit for bit; that only holds once the kernels are JIT-compiled.
        for (String f : FAMILIES) Fixtures.warmUp(MODELS.get(f));
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(Model::close);
    }

    private static Model model(String family) {
        return MODELS.get(family);
    }

    private static int[] seq(String family, int i) {
        return Fixtures.sequence(family, i);
    }

    private static FloatTensor logits(Model m, int[] tokens) {
        return m.forward(Batch.of(tokens), Hooks.none()).logits(0);
    }

    private static ActivationCache cache(Model m, int[] tokens, String... points) {
        ActivationCache cache = new ActivationCache();
        m.forward(Batch.of(tokens), new Hooks().cache(cache, points));
        return cache;
    }

    /** Row {@code p} of a [pos, width] tensor. */
    private static float[] row(FloatTensor t, int p) {
        return t.slice(p).data();
    }

    private static FloatTensor rows(FloatTensor t, int from, int to) {
        int w = t.dim(1);
        return new FloatTensor(Arrays.copyOfRange(t.data(), from * w, to * w), to - from, w);
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        float max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static float[] randomVector(int n, long seed, float scale) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * scale;
        return v;
    }

    private static int[] range(int n) {
        return IntStream.range(0, n).toArray();
    }

    // ---- residual stream identities -------------------------------------------------------------------

    @Test
    void llama2ResidualAddsAreExactlyTheHookedOutputs() {
        Model m = model("llama2");
        List<String> points = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            for (String s : new String[]{"hook_resid_pre", "hook_attn_out", "hook_resid_mid", "hook_mlp_out", "hook_resid_post"}) {
                points.add("blocks." + l + "." + s);
            }
        }
        ActivationCache c = cache(m, seq("llama2", 0), points.toArray(String[]::new));
        for (int l = 0; l < 3; l++) {
            String b = "blocks." + l + ".";
            FloatTensor pre = c.get(b + "hook_resid_pre"), attn = c.get(b + "hook_attn_out"),
                    mid = c.get(b + "hook_resid_mid"), mlp = c.get(b + "hook_mlp_out"), post = c.get(b + "hook_resid_post");
            assertThat(pre.shape()).containsExactly(20, 64);
            assertThat(attn.maxAbs()).as("attn_out of layer %d is not trivial", l).isGreaterThan(1e-3f);
            assertThat(mlp.maxAbs()).as("mlp_out of layer %d is not trivial", l).isGreaterThan(1e-3f);
            for (int i = 0; i < pre.size(); i++) {
                assertThat(Math.abs(mid.data()[i] - (pre.data()[i] + attn.data()[i]))).isLessThanOrEqualTo(1e-5f);
                assertThat(Math.abs(post.data()[i] - (mid.data()[i] + mlp.data()[i]))).isLessThanOrEqualTo(1e-5f);
            }
            if (l > 0) {
                assertThat(pre.data()).isEqualTo(c.get("blocks." + (l - 1) + ".hook_resid_post").data());
            }
        }
    }

    /** Gemma-2 normalises the attention and MLP outputs before the residual add; the hooks sit before those norms. */
    @Test
    void gemma2OutputHooksSitBeforeThePostNorms() {
        Model m = model("gemma2");
        ActivationCache c = cache(m, seq("gemma2", 0), "blocks.1.hook_resid_pre", "blocks.1.hook_attn_out",
                "blocks.1.hook_resid_mid", "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post");
        FloatTensor pre = c.get("blocks.1.hook_resid_pre"), attn = c.get("blocks.1.hook_attn_out"),
                mid = c.get("blocks.1.hook_resid_mid"), mlp = c.get("blocks.1.hook_mlp_out"),
                post = c.get("blocks.1.hook_resid_post");
        float[] postAttnNorm, postMlpNorm;
        try (TensorSource w = SafetensorsFile.open(Fixtures.dir("gemma2").resolve("model.safetensors"))) {
            postAttnNorm = w.readFloats("model.layers.1.post_attention_layernorm.weight");
            postMlpNorm = w.readFloats("model.layers.1.post_feedforward_layernorm.weight");
        }
        float naiveAttn = 0, naiveMlp = 0;
        for (int i = 0; i < pre.size(); i++) {
            naiveAttn = Math.max(naiveAttn, Math.abs(mid.data()[i] - (pre.data()[i] + attn.data()[i])));
            naiveMlp = Math.max(naiveMlp, Math.abs(post.data()[i] - (mid.data()[i] + mlp.data()[i])));
        }
        assertThat(naiveAttn).as("resid_mid is not resid_pre + attn_out").isGreaterThan(1e-2f);
        assertThat(naiveMlp).as("resid_post is not resid_mid + mlp_out").isGreaterThan(1e-2f);

        float[] expectedMid = addNormed(pre, attn, postAttnNorm);
        float[] expectedPost = addNormed(mid, mlp, postMlpNorm);
        assertThat(maxAbsDiff(mid.data(), expectedMid)).isLessThanOrEqualTo(1e-4f);
        assertThat(maxAbsDiff(post.data(), expectedPost)).isLessThanOrEqualTo(1e-4f);
    }

    /** residual + RMSNorm(out) * (1 + w), eps 1e-6, per position. */
    private static float[] addNormed(FloatTensor residual, FloatTensor out, float[] w) {
        int d = w.length;
        float[] y = new float[residual.size()];
        for (int p = 0; p < residual.dim(0); p++) {
            double ss = 0;
            for (int i = 0; i < d; i++) ss += (double) out.get(p, i) * out.get(p, i);
            double inv = 1 / Math.sqrt(ss / d + 1e-6);
            for (int i = 0; i < d; i++) y[p * d + i] = (float) (residual.get(p, i) + out.get(p, i) * inv * (1 + w[i]));
        }
        return y;
    }

    // ---- embedding ------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "gemma", "gemma2"})
    void embedHookIsTheFirstResidual(String family) {
        ActivationCache c = cache(model(family), seq(family, 1), "hook_embed", "blocks.0.hook_resid_pre");
        assertThat(c.get("hook_embed").shape()).containsExactly(20, 64);
        assertThat(c.get("hook_embed").data()).isEqualTo(c.get("blocks.0.hook_resid_pre").data());
    }

    @Test
    void llama2EmbedIsTheEmbeddingRow() {
        int[] tokens = seq("llama2", 0);
        FloatTensor embed = cache(model("llama2"), tokens, "hook_embed").get("hook_embed");
        try (TensorSource w = SafetensorsFile.open(Fixtures.dir("llama2").resolve("model.safetensors"))) {
            float[] table = w.readFloats("model.embed_tokens.weight");
            for (int p = 0; p < tokens.length; p++) {
                assertThat(row(embed, p)).isEqualTo(Arrays.copyOfRange(table, tokens[p] * 64, tokens[p] * 64 + 64));
            }
        }
    }

    @Test
    void gemmaEmbedIsTheEmbeddingRowTimesEight() {
        int[] tokens = seq("gemma", 0);
        FloatTensor embed = cache(model("gemma"), tokens, "hook_embed").get("hook_embed");
        try (TensorSource w = SafetensorsFile.open(Fixtures.dir("gemma").resolve("model.safetensors"))) {
            float[] table = w.readFloats("model.embed_tokens.weight");
            assertThat(table).hasSize(742 * 64);
            for (int p = 0; p < tokens.length; p++) {
                float[] expected = new float[64];
                for (int i = 0; i < 64; i++) expected[i] = table[tokens[p] * 64 + i] * 8f;
                assertThat(row(embed, p)).as("position %d", p).isEqualTo(expected);
            }
        }
    }

    // ---- attention shapes and masks --------------------------------------------------------------------

    @Test
    void llama3HeadShapesFollowGqa() {
        ActivationCache c = cache(model("llama3"), seq("llama3", 1), "blocks.1.attn.hook_q", "blocks.1.attn.hook_k",
                "blocks.1.attn.hook_v", "blocks.1.attn.hook_z", "blocks.1.attn.hook_pattern");
        assertThat(c.get("blocks.1.attn.hook_q").shape()).containsExactly(20, 8, 8);
        assertThat(c.get("blocks.1.attn.hook_k").shape()).containsExactly(20, 2, 8);
        assertThat(c.get("blocks.1.attn.hook_v").shape()).containsExactly(20, 2, 8);
        assertThat(c.get("blocks.1.attn.hook_z").shape()).containsExactly(20, 8, 8);
        assertThat(c.get("blocks.1.attn.hook_pattern").shape()).containsExactly(8, 20, 20);
    }

    @Test
    void gemmaHeadShapesUseHeadDim32() {
        ActivationCache c = cache(model("gemma"), seq("gemma", 2), "blocks.0.attn.hook_q", "blocks.0.attn.hook_k",
                "blocks.0.attn.hook_z");
        int n = seq("gemma", 2).length;
        assertThat(c.get("blocks.0.attn.hook_q").shape()).containsExactly(n, 4, 32);
        assertThat(c.get("blocks.0.attn.hook_k").shape()).containsExactly(n, 1, 32);
        assertThat(c.get("blocks.0.attn.hook_z").shape()).containsExactly(n, 4, 32);
    }

    /** The GQA grouping: z of query heads sharing a kv head with uniform attention at position 0 is that v. */
    @Test
    void firstPositionZIsItsOwnValueForEveryHeadOfTheGroup() {
        ActivationCache c = cache(model("llama3"), seq("llama3", 0), "blocks.0.attn.hook_v", "blocks.0.attn.hook_z");
        FloatTensor v = c.get("blocks.0.attn.hook_v"), z = c.get("blocks.0.attn.hook_z");
        for (int h = 0; h < 8; h++) {
            for (int i = 0; i < 8; i++) {
                assertThat(z.get(0, h, i)).as("head %d", h).isEqualTo(v.get(0, h / 4, i));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "gemma", "gemma2", "qwen3"})
    void patternRowsSumToOneAndAreCausal(String family) {
        Model m = model(family);
        int layers = m.config().layers();
        String[] points = IntStream.range(0, layers).mapToObj(l -> "blocks." + l + ".attn.hook_pattern").toArray(String[]::new);
        ActivationCache c = cache(m, seq(family, 1), points);
        for (int l = 0; l < layers; l++) {
            FloatTensor p = c.get(points[l]);
            assertThat(p.shape()).containsExactly(m.config().heads(), 20, 20);
            for (int h = 0; h < p.dim(0); h++) {
                for (int i = 0; i < 20; i++) {
                    double sum = 0;
                    for (int j = 0; j < 20; j++) {
                        float v = p.get(h, i, j);
                        if (j > i) assertThat(v).as("%s layer %d head %d [%d][%d]", family, l, h, i, j).isZero();
                        else assertThat(v).isGreaterThanOrEqualTo(0f);
                        sum += v;
                    }
                    assertThat(sum).as("%s layer %d head %d row %d", family, l, h, i).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
                }
                assertThat(p.get(h, 0, 0)).isEqualTo(1f);
            }
        }
    }

    @Test
    void mistralSlidingWindowMasksKeysEightOrMoreBack() {
        Model m = model("mistral");
        ActivationCache c = cache(m, seq("mistral", 0), "blocks.0.attn.hook_pattern", "blocks.2.attn.hook_pattern");
        for (String point : new String[]{"blocks.0.attn.hook_pattern", "blocks.2.attn.hook_pattern"}) {
            FloatTensor p = c.get(point);
            for (int h = 0; h < 4; h++) {
                for (int i = 0; i < 20; i++) {
                    for (int j = 0; j < 20; j++) {
                        boolean visible = j <= i && j > i - 8;
                        if (visible) assertThat(p.get(h, i, j)).as("%s h%d [%d][%d]", point, h, i, j).isPositive();
                        else assertThat(p.get(h, i, j)).as("%s h%d [%d][%d]", point, h, i, j).isZero();
                    }
                }
            }
        }
    }

    @Test
    void gemma2SlidesOnlyOnEvenLayers() {
        ActivationCache c = cache(model("gemma2"), seq("gemma2", 1), "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern");
        FloatTensor sliding = c.get("blocks.0.attn.hook_pattern"), global = c.get("blocks.1.attn.hook_pattern");
        for (int h = 0; h < 4; h++) {
            assertThat(sliding.get(h, 19, 11)).isZero();
            assertThat(sliding.get(h, 19, 12)).isPositive();
            assertThat(sliding.get(h, 19, 0)).isZero();
            assertThat(global.get(h, 19, 0)).isPositive();
            assertThat(global.get(h, 19, 11)).isPositive();
        }
    }

    // ---- reading changes nothing; editing changes exactly what it says --------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "gemma2", "qwen2"})
    void cachingAndAddingZeroLeaveLogitsBitIdentical(String family) {
        Model m = model(family);
        int[] tokens = seq(family, 0);
        float[] plain = logits(m, tokens).data();

        List<String> all = new ArrayList<>(List.of("hook_embed", "ln_final.hook_normalized", "logits"));
        for (int l = 0; l < m.config().layers(); l++) {
            for (String s : new String[]{"hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_pattern",
                    "attn.hook_z", "hook_attn_out", "hook_resid_mid", "hook_mlp_out", "hook_resid_post"}) {
                all.add("blocks." + l + "." + s);
            }
        }
        ActivationCache cache = new ActivationCache();
        float[] cached = m.forward(Batch.of(tokens), new Hooks().cache(cache, all.toArray(String[]::new))).logits(0).data();
        assertThat(cached).isEqualTo(plain);
        assertThat(cache.get("logits").data()).isEqualTo(plain);

        int d = m.config().dModel(), hd = m.config().headDim();
        Hooks zeros = new Hooks()
                .add("blocks.0.hook_resid_post", new float[d], 1f, Positions.all())
                .add("blocks.1.hook_attn_out", randomVector(d, 1, 1f), 0f, Positions.all())
                .addToHeads("blocks.1.attn.hook_z", new int[]{1}, new float[hd], 5f, Positions.all())
                .scale("blocks.0.hook_mlp_out", null, 1f, Positions.all());
        assertThat(m.forward(Batch.of(tokens), zeros).logits(0).data()).isEqualTo(plain);
    }

    @Test
    void zeroAtPositionThreeIsSeenByLaterHooksAndChangesOnlyLaterLogits() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 0);
        FloatTensor plain = logits(m, tokens);
        ActivationCache before = new ActivationCache(), after = new ActivationCache();
        String point = "blocks.1.hook_resid_post";
        Hooks hooks = new Hooks()
                .cache(before, point)
                .zero(point, null, Positions.at(3))
                .cache(after, point);
        FloatTensor edited = m.forward(Batch.of(tokens), hooks).logits(0);

        FloatTensor seenAfter = after.get(point), seenBefore = before.get(point);
        for (float v : row(seenAfter, 3)) assertThat(v == 0f).as("zeroed value %s", v).isTrue();
        assertThat(row(seenBefore, 3)).isEqualTo(row(cache(m, tokens, point).get(point), 3));
        assertThat(seenBefore.slice(3).maxAbs()).isGreaterThan(0.1f);
        for (int p = 0; p < 20; p++) {
            if (p != 3) assertThat(row(seenAfter, p)).isEqualTo(row(seenBefore, p));
        }

        for (int p = 0; p < 3; p++) {
            assertThat(row(edited, p)).as("position %d", p).isEqualTo(row(plain, p));
        }
        for (int p = 3; p < 20; p++) {
            assertThat(maxAbsDiff(row(edited, p), row(plain, p))).as("position %d", p).isGreaterThan(1e-4f);
        }
    }

    @Test
    void headZeroingTouchesOnlyThatHead() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 1);
        ActivationCache c = new ActivationCache();
        m.forward(Batch.of(tokens), new Hooks().zero("blocks.0.attn.hook_z", new int[]{2}, Positions.all())
                .cache(c, "blocks.0.attn.hook_z"));
        FloatTensor plain = cache(m, tokens, "blocks.0.attn.hook_z").get("blocks.0.attn.hook_z");
        FloatTensor z = c.get("blocks.0.attn.hook_z");
        for (int p = 0; p < 20; p++) {
            for (int h = 0; h < 4; h++) {
                for (int i = 0; i < 16; i++) {
                    assertThat(z.get(p, h, i)).isEqualTo(h == 2 ? 0f : plain.get(p, h, i));
                }
            }
        }
    }

    @Test
    void hooksArePerCall() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 2);
        float[] plain = logits(m, tokens).data();
        Hooks steer = new Hooks().add("blocks.1.hook_resid_post", randomVector(64, 5, 1f), 4f, Positions.all());
        float[] steered = m.forward(Batch.of(tokens), steer).logits(0).data();
        assertThat(maxAbsDiff(steered, plain)).isGreaterThan(1e-2f);
        assertThat(logits(m, tokens).data()).isEqualTo(plain);
        // the same Hooks again: the same effect, not a doubled one
        assertThat(m.forward(Batch.of(tokens), steer).logits(0).data()).isEqualTo(steered);
        assertThat(logits(m, tokens).data()).isEqualTo(plain);
    }

    // ---- KV cache ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void twoCallsWithAKvCacheEqualOneCall(String family) {
        Model m = model(family);
        int[] tokens = seq(family, 1);
        FloatTensor full = logits(m, tokens);
        KvCache cache = m.newCache(1, 20);
        FloatTensor first = m.forward(Batch.of(Arrays.copyOf(tokens, 12)), Hooks.none(), cache, LogitsMode.ALL).logits(0);
        assertThat(cache.length()).isEqualTo(12);
        ForwardResult second = m.forward(Batch.of(Arrays.copyOfRange(tokens, 12, 20)), Hooks.none(), cache, LogitsMode.ALL);
        assertThat(cache.length()).isEqualTo(20);
        assertThat(second.logits(0).shape()).containsExactly(8, m.config().vocabSize());
        assertThat(first.maxAbsDiff(rows(full, 0, 12))).isLessThanOrEqualTo(1e-5f);
        assertThat(second.logits(0).maxAbsDiff(rows(full, 12, 20))).isLessThanOrEqualTo(1e-5f);
        assertThat(second.layout().pastTokens()).containsExactly(12);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "mistral", "gemma2"})
    void oneTokenAtATimeEqualsOneCall(String family) {
        Model m = model(family);
        int[] tokens = seq(family, 1);
        FloatTensor full = logits(m, tokens);
        KvCache cache = m.newCache(1, 32);
        for (int t = 0; t < tokens.length; t++) {
            float[] step = m.forward(Batch.nextTokens(tokens[t]), Hooks.none(), cache, LogitsMode.LAST).lastLogits(0);
            assertThat(maxAbsDiff(step, row(full, t))).as("%s step %d", family, t).isLessThanOrEqualTo(1e-5f);
        }
        assertThat(cache.length()).isEqualTo(20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "mistral", "gemma2"})
    void lastOfCallSteeringDuringDecodeEqualsAllPositionsInOneCall(String family) {
        Model m = model(family);
        int[] tokens = seq(family, 1);
        float[] v = randomVector(64, 9, 1f);
        String point = "blocks.1.hook_resid_post";
        FloatTensor plain = logits(m, tokens);
        FloatTensor steeredAll = m.forward(Batch.of(tokens), new Hooks().add(point, v, 2f, Positions.all())).logits(0);

        Hooks last = new Hooks().add(point, v, 2f, Positions.lastOfCall());
        KvCache cache = m.newCache(1, 20);
        for (int t = 0; t < tokens.length; t++) {
            float[] step = m.forward(Batch.nextTokens(tokens[t]), last, cache, LogitsMode.LAST).lastLogits(0);
            assertThat(maxAbsDiff(step, row(steeredAll, t))).as("step %d", t).isLessThanOrEqualTo(1e-5f);
            assertThat(maxAbsDiff(step, row(plain, t))).as("step %d is steered", t).isGreaterThan(1e-3f);
        }
    }

    @Test
    void lastOfCallInOneCallActsOnlyOnTheLastPosition() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 1);
        FloatTensor plain = logits(m, tokens);
        FloatTensor steered = m.forward(Batch.of(tokens),
                new Hooks().add("blocks.1.hook_resid_post", randomVector(64, 9, 1f), 2f, Positions.lastOfCall())).logits(0);
        for (int p = 0; p < 19; p++) assertThat(row(steered, p)).isEqualTo(row(plain, p));
        assertThat(maxAbsDiff(row(steered, 19), row(plain, 19))).isGreaterThan(1e-3f);
    }

    @Test
    void cacheHookDuringDecodeAppendsPositions() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 0);
        ActivationCache acts = new ActivationCache();
        Hooks hooks = new Hooks().cache(acts, "blocks.2.hook_resid_post");
        KvCache kv = m.newCache(1, 20);
        m.forward(Batch.of(Arrays.copyOf(tokens, 15)), hooks, kv, LogitsMode.NONE);
        for (int t = 15; t < 20; t++) m.forward(Batch.nextTokens(tokens[t]), hooks, kv, LogitsMode.LAST);
        assertThat(acts.tokenIndices("blocks.2.hook_resid_post", 0)).containsExactly(range(20));
        FloatTensor once = cache(m, tokens, "blocks.2.hook_resid_post").get("blocks.2.hook_resid_post");
        assertThat(acts.get("blocks.2.hook_resid_post").maxAbsDiff(once)).isLessThanOrEqualTo(1e-5f);
    }

    @Test
    void logitsModesAgree() {
        Model m = model("gemma2");
        int[] tokens = seq("gemma2", 1);
        FloatTensor full = logits(m, tokens);
        assertThat(full.maxAbs()).as("final soft-cap 30").isLessThan(30f);
        ActivationCache acts = new ActivationCache();
        ForwardResult last = m.forward(Batch.of(tokens), new Hooks().cache(acts, "logits"), m.newCache(1, 20), LogitsMode.LAST);
        // one row takes the decode kernel, twenty the GEMM (OpenBLAS where loaded): equal up to summation order
        assertThat(maxAbsDiff(last.lastLogits(0), row(full, 19))).isLessThan(1e-5f);
        assertThat(acts.tokenIndices("logits", 0)).containsExactly(19);
        assertThat(acts.get("logits").data()).isEqualTo(last.lastLogits(0));
        assertThatThrownBy(() -> last.logits(0)).isInstanceOf(IllegalStateException.class);
        ForwardResult none = m.forward(Batch.of(tokens), Hooks.none(), m.newCache(1, 20), LogitsMode.NONE);
        assertThatThrownBy(() -> none.lastLogits(0)).isInstanceOf(IllegalStateException.class);
    }

    // ---- left padding -------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "mistral", "gemma2", "qwen2"})
    void leftPaddedRowEqualsItsUnpaddedRun(String family) {
        Model m = model(family);
        int[] a = seq(family, 0), b = seq(family, 2);
        assertThat(b.length).isLessThan(a.length);
        ActivationCache acts = new ActivationCache();
        Batch batch = Batch.of(a, b);
        assertThat(batch.padding(1)).isEqualTo(a.length - b.length);
        ForwardResult out = m.forward(batch, new Hooks().cache(acts, "blocks.1.hook_resid_post", "blocks.0.attn.hook_pattern"));

        assertThat(out.logits(0).maxAbsDiff(logits(m, a))).isLessThanOrEqualTo(1e-5f);
        assertThat(out.logits(1).maxAbsDiff(logits(m, b))).isLessThanOrEqualTo(1e-5f);
        assertThat(maxAbsDiff(out.lastLogits(1), row(logits(m, b), b.length - 1))).isLessThanOrEqualTo(1e-5f);

        assertThat(acts.tokenIndices("blocks.1.hook_resid_post", 0)).containsExactly(range(a.length));
        assertThat(acts.tokenIndices("blocks.1.hook_resid_post", 1)).containsExactly(range(b.length));
        ActivationCache alone = cache(m, b, "blocks.1.hook_resid_post", "blocks.0.attn.hook_pattern");
        assertThat(acts.get("blocks.1.hook_resid_post", 1).maxAbsDiff(alone.get("blocks.1.hook_resid_post")))
                .isLessThanOrEqualTo(1e-5f);
        FloatTensor pattern = acts.get("blocks.0.attn.hook_pattern", 1);
        assertThat(pattern.shape()).containsExactly(m.config().heads(), b.length, b.length);
        assertThat(pattern.maxAbsDiff(alone.get("blocks.0.attn.hook_pattern"))).isLessThanOrEqualTo(1e-5f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "mistral", "gemma2"})
    void leftPaddedBatchDecodesLikeSeparateRuns(String family) {
        Model m = model(family);
        int[] a = seq(family, 0), b = seq(family, 2);
        int nextA = a[3], nextB = b[4];
        KvCache kv = m.newCache(2, 22);
        m.forward(Batch.of(a, b), Hooks.none(), kv, LogitsMode.LAST);
        ForwardResult step = m.forward(Batch.nextTokens(nextA, nextB), Hooks.none(), kv, LogitsMode.LAST);
        int[] a1 = Arrays.copyOf(a, a.length + 1), b1 = Arrays.copyOf(b, b.length + 1);
        a1[a.length] = nextA;
        b1[b.length] = nextB;
        assertThat(maxAbsDiff(step.lastLogits(0), row(logits(m, a1), a.length))).isLessThanOrEqualTo(1e-5f);
        assertThat(maxAbsDiff(step.lastLogits(1), row(logits(m, b1), b.length))).isLessThanOrEqualTo(1e-5f);
    }

    /**
     * A decode step over many sequences (the server's continuous batching) gives each the logits it gets alone:
     * bit for bit up to 31 rows (the batched and the single-row kernels sum in the same order), and up to
     * summation order from 32 rows on, where the step's products go to OpenBLAS.
     */
    @ParameterizedTest
    @ValueSource(ints = {8, 40})
    void batchedDecodeEqualsOneAtATime(int rows) {
        Model m = model("qwen2");
        List<KvCache.Row> prefilled = new ArrayList<>();
        int[] next = new int[rows];
        for (int r = 0; r < rows; r++) {
            int[] prompt = Arrays.copyOf(seq("qwen2", r % 3), 6 + r % 11);      // 6 to 16 tokens, all different
            prompt[0] = r;
            KvCache alone = m.newCache(1, prompt.length);
            m.forward(Batch.of(prompt), Hooks.none(), alone, LogitsMode.NONE);
            prefilled.add(new KvCache.Row(alone, 0));
            next[r] = seq("qwen2", 1)[r % 20];
        }
        KvCache batch = KvCache.merge(m.config(), prefilled, 18);
        ForwardResult step = m.forward(Batch.nextTokens(next), Hooks.none(), batch, LogitsMode.LAST);
        for (int r = 0; r < rows; r++) {
            KvCache one = KvCache.merge(m.config(), List.of(prefilled.get(r)), 18);
            float[] alone = m.forward(Batch.nextTokens(next[r]), Hooks.none(), one, LogitsMode.LAST).lastLogits(0);
            if (rows < 32) assertThat(step.lastLogits(r)).as("row %d", r).isEqualTo(alone);
            else assertThat(maxAbsDiff(step.lastLogits(r), alone)).as("row %d", r).isLessThan(1e-5f);
        }
    }

    @Test
    void decodePatternOfAPaddedRowCoversOnlyItsRealKeys() {
        Model m = model("gemma2");
        int[] a = seq("gemma2", 1), b = seq("gemma2", 2);
        KvCache kv = m.newCache(2, 21);
        m.forward(Batch.of(a, b), Hooks.none(), kv, LogitsMode.NONE);
        ActivationCache step = new ActivationCache();
        m.forward(Batch.nextTokens(a[0], b[0]), new Hooks().cache(step, "blocks.1.attn.hook_pattern"), kv, LogitsMode.LAST);
        int[] b1 = Arrays.copyOf(b, b.length + 1);
        b1[b.length] = b[0];
        FloatTensor alone = cache(m, b1, "blocks.1.attn.hook_pattern").get("blocks.1.attn.hook_pattern");
        FloatTensor row1 = step.get("blocks.1.attn.hook_pattern", 1);
        assertThat(step.tokenIndices("blocks.1.attn.hook_pattern", 1)).containsExactly(b.length);
        assertThat(row1.shape()).containsExactly(4, 1, b.length + 1);
        for (int h = 0; h < 4; h++) {
            for (int j = 0; j <= b.length; j++) {
                assertThat(Math.abs(row1.get(h, 0, j) - alone.get(h, b.length, j))).isLessThanOrEqualTo(1e-5f);
            }
        }
        assertThat(step.get("blocks.1.attn.hook_pattern", 0).shape()).containsExactly(4, 1, a.length + 1);
    }

    @Test
    void cachedPatternsOfCallsWithDifferentKeyCountsCannotBeStacked() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 0);
        ActivationCache acts = new ActivationCache();
        Hooks hooks = new Hooks().cache(acts, "blocks.0.attn.hook_pattern");
        KvCache kv = m.newCache(1, 20);
        m.forward(Batch.of(Arrays.copyOf(tokens, 10)), hooks, kv, LogitsMode.NONE);
        assertThat(acts.get("blocks.0.attn.hook_pattern").shape()).containsExactly(4, 10, 10);
        m.forward(Batch.nextTokens(tokens[10]), hooks, kv, LogitsMode.NONE);
        assertThatThrownBy(() -> acts.get("blocks.0.attn.hook_pattern"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("blocks.0.attn.hook_pattern");
    }

    @Test
    void projectOutRemovesTheDirection() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 0);
        float[] u = randomVector(64, 21, 3f);
        ActivationCache acts = new ActivationCache();
        m.forward(Batch.of(tokens), new Hooks().projectOut("blocks.1.hook_resid_post", u, Positions.from(5))
                .cache(acts, "blocks.1.hook_resid_post"));
        FloatTensor plain = cache(m, tokens, "blocks.1.hook_resid_post").get("blocks.1.hook_resid_post");
        FloatTensor edited = acts.get("blocks.1.hook_resid_post");
        double norm = 0;
        for (float x : u) norm += (double) x * x;
        for (int p = 0; p < 20; p++) {
            double before = 0, after = 0;
            for (int i = 0; i < 64; i++) {
                before += plain.get(p, i) * u[i];
                after += edited.get(p, i) * u[i];
            }
            if (p < 5) {
                assertThat(row(edited, p)).isEqualTo(row(plain, p));
            } else {
                assertThat(Math.abs(before) / Math.sqrt(norm)).isGreaterThan(1e-3);
                assertThat(Math.abs(after) / Math.sqrt(norm)).as("position %d", p).isLessThan(1e-5);
            }
        }
        assertThatThrownBy(() -> new Hooks().projectOut("blocks.1.hook_resid_post", new float[64], Positions.all()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("zero vector");
    }

    @Test
    void positionSelectorsCountFromEachRowsFirstRealToken() {
        Model m = model("llama2");
        int[] a = seq("llama2", 0), b = seq("llama2", 2);
        ActivationCache acts = new ActivationCache();
        m.forward(Batch.of(a, b), new Hooks().cache(acts, Positions.at(0, -1), "blocks.0.hook_resid_post"));
        assertThat(acts.tokenIndices("blocks.0.hook_resid_post", 0)).containsExactly(0, a.length - 1);
        assertThat(acts.tokenIndices("blocks.0.hook_resid_post", 1)).containsExactly(0, b.length - 1);
    }

    // ---- bad input ----------------------------------------------------------------------------------------

    @Test
    void tokenIdOutsideVocabularyIsNamed() {
        Model m = model("llama2");
        int[] tokens = seq("llama2", 2).clone();
        tokens[5] = 739;
        assertThatThrownBy(() -> m.forward(Batch.of(tokens), Hooks.none()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("token id 739").hasMessageContaining("739)");
        tokens[5] = -4;
        assertThatThrownBy(() -> m.forward(Batch.of(tokens), Hooks.none()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("token id -4");
        // the model is unharmed
        assertThat(logits(m, seq("llama2", 2)).maxAbsDiff(logits(m, seq("llama2", 2)))).isZero();
    }

    @Test
    void hookOnMissingLayerNamesTheLayerCount() {
        Model m = model("llama2");
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)),
                new Hooks().cache(new ActivationCache(), "blocks.99.hook_resid_post")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("blocks.99.hook_resid_post")
                .hasMessageContaining("3 layers");
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)),
                new Hooks().zero("blocks.3.attn.hook_z", new int[]{0}, Positions.all())))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("3 layers");
    }

    @Test
    void addedVectorOfWrongLengthNamesTheHook() {
        Model m = model("llama2");
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)),
                new Hooks().add("blocks.1.hook_resid_post", new float[63], 1f, Positions.all())))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("blocks.1.hook_resid_post")
                .hasMessageContaining("63")
                .hasMessageContaining("64");
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)),
                new Hooks().addToHeads("blocks.0.attn.hook_z", new int[]{1}, new float[64], 1f, Positions.all())))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("blocks.0.attn.hook_z")
                .hasMessageContaining("16");
    }

    @Test
    void unknownHeadNamesTheHook() {
        Model m = model("llama2");
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)),
                new Hooks().zero("blocks.0.attn.hook_z", new int[]{4}, Positions.all())))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("blocks.0.attn.hook_z").hasMessageContaining("head 4");
    }

    @Test
    void sequenceLongerThanTheContextFailsClearly() {
        Model m = model("llama2");
        int[] tokens = new int[257];
        Arrays.fill(tokens, 5);
        assertThatThrownBy(() -> m.forward(Batch.of(tokens), Hooks.none()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("257").hasMessageContaining("max_position_embeddings 256");

        // exactly the context is fine; one more decoded token is not
        KvCache kv = m.newCache(1, 300);
        m.forward(Batch.of(Arrays.copyOf(tokens, 256)), Hooks.none(), kv, LogitsMode.NONE);
        assertThatThrownBy(() -> m.forward(Batch.nextTokens(5), Hooks.none(), kv, LogitsMode.LAST))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("257").hasMessageContaining("max_position_embeddings 256");
    }

    @Test
    void kvCacheMisuseFailsClearly() {
        Model m = model("llama2");
        KvCache small = m.newCache(1, 10);
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)), Hooks.none(), small, LogitsMode.LAST))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("KV cache");
        KvCache two = m.newCache(2, 30);
        assertThatThrownBy(() -> m.forward(Batch.of(seq("llama2", 2)), Hooks.none(), two, LogitsMode.LAST))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("1 rows").hasMessageContaining("2");
    }
}
