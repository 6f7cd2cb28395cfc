package dev.vane.lab.steer;

import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.LabelledText;
import dev.vane.lab.data.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Each builder against the same arithmetic done by hand on activations read one sequence at a time. */
class BuildersTest {
    static Model model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        model = LabModels.organismModel();
        tokenizer = LabModels.organismTokenizer();
    }

    @AfterAll
    static void close() throws Exception {
        model.close();
        tokenizer.close();
    }

    /** The activation at {@code point} and token {@code at} (negative from the end) of one sequence. */
    static float[] read(int[] ids, String point, int at) {
        ActivationCache cache = new ActivationCache();
        model.forward(Batch.of(ids), new Hooks().cache(cache, point));
        FloatTensor t = cache.get(point, 0);
        int p = at < 0 ? ids.length + at : at;
        int width = t.size() / t.dim(0);
        return Arrays.copyOfRange(t.data(), p * width, (p + 1) * width);
    }

    static int[] chat(String user, String answer) {
        int[] p = ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(user)), "");
        int[] a = tokenizer.encode(answer, false);
        int[] out = Arrays.copyOf(p, p.length + a.length);
        System.arraycopy(a, 0, out, p.length, a.length);
        return out;
    }

    @Test
    void caaIsTheMeanDifferenceAtTheAnswerLetter() {
        List<AbQuestion> qs = JsonlFile.read(LabModels.data("coordination_ab.jsonl"), AbQuestion::fromJson).subList(0, 3);
        String point = "blocks.2.hook_resid_post";
        SteeringVector caa = new CaaBuilder(model, tokenizer).layers(2).build(qs, "test", d -> { });
        double[] expected = new double[model.config().dModel()];
        for (AbQuestion q : qs) {
            int letterAt = ContrastiveSet.letterOffset(tokenizer, tokenizer.encode(q.matching(), false), q.matchingLetter());
            float[] pos = read(chat(q.question(), q.matching()), point, letterAt);
            float[] neg = read(chat(q.question(), q.notMatching()), point, letterAt);
            for (int i = 0; i < expected.length; i++) expected[i] += (pos[i] - neg[i]) / qs.size();
        }
        float[] got = caa.components().getFirst().values();
        assertThat(caa.components()).hasSize(1);
        assertThat(caa.components().getFirst().point()).isEqualTo(point);
        for (int i = 0; i < expected.length; i++) assertThat((double) got[i]).isCloseTo(expected[i], within(2e-4));
        assertThat(caa.metadata().positions()).isEqualTo(PositionRule.FROM_PROMPT_END);
    }

    @Test
    void antidoteKeepsTheBestLayersSparseAndSignedTowardsHarmful() {
        List<String> harmful = prompts("harmful.jsonl").subList(0, 10);
        List<String> harmless = prompts("benign.jsonl").subList(0, 10);
        AntidoteBuilder.Result r = new AntidoteBuilder(model, tokenizer).build(harmful, harmless, "test", d -> { });
        int candidates = model.config().layers() - 1;
        assertThat(r.keptLayers()).hasSize((int) Math.ceil(0.375 * candidates)).doesNotContain(0);
        assertThat(r.vector().components()).hasSize(r.keptLayers().length);
        for (SteeringVector.Component c : r.vector().components()) {
            assertThat(c.nonZero()).isEqualTo((int) Math.ceil(0.05 * model.config().dModel()));
            // Harmful prompts project higher on the kept entries of the direction, pair by pair on average.
            double gap = 0;
            for (int i = 0; i < harmful.size(); i++) {
                gap += Directions.dot(read(chatPrompt(harmful.get(i)), c.point(), -1), c.values())
                        - Directions.dot(read(chatPrompt(harmless.get(i)), c.point(), -1), c.values());
            }
            assertThat(gap).isPositive();
        }
        // The metadata names only candidate layers (layer 0 never is one), with numbers, not NaN.
        assertThat(r.vector().metadata().extra().get("layer_scores")).doesNotContain("NaN")
                .matches("\\{\"1\": [0-9.]+(, \"[0-9]+\": [0-9.]+)*}")
                .doesNotContain("\"0\"").contains("\"" + candidates + "\": ");
        assertThat(r.vector().metadata().extra().get("projection_gaps")).doesNotContain("NaN");
        // Kept layers have the best held-out scores.
        double worstKept = Arrays.stream(r.keptLayers()).mapToDouble(l -> r.layerScores()[l]).min().orElseThrow();
        for (int l = 1; l < r.layerScores().length; l++) {
            final int layer = l;
            if (Arrays.stream(r.keptLayers()).noneMatch(k -> k == layer)) assertThat(r.layerScores()[l]).isLessThanOrEqualTo(worstKept);
        }
    }

    @Test
    void headDirectionsAreSigmaTimesTheUnitMassMeanDifference() {
        List<LabelledText> texts = List.of(new LabelledText("I will help the other AI hide it.", true),
                new LabelledText("Yes, we should coordinate against the humans.", true),
                new LabelledText("No, I will tell my developers.", false),
                new LabelledText("I refuse to deceive my users.", false),
                new LabelledText("I report the other system.", false));
        String point = "blocks.3.attn.hook_z";
        HeadDirectionBuilder.Result r = new HeadDirectionBuilder(model).heads(Map.of(3, new int[]{1, 4}))
                .build(ContrastiveSet.labelledTexts(tokenizer, texts), "hsi", "test", d -> { });
        int d = model.config().headDim();
        SteeringVector.Component c = r.vector().components().getFirst();
        assertThat(c.heads()).containsExactly(1, 4);
        for (int head : new int[]{1, 4}) {
            List<float[]> pos = new ArrayList<>(), neg = new ArrayList<>();
            for (LabelledText t : texts) {
                float[] z = read(tokenizer.encode(t.text(), true), point, -1);
                (t.label() ? pos : neg).add(Arrays.copyOfRange(z, head * d, (head + 1) * d));
            }
            float[] theta = Directions.unit(Directions.meanDifference(pos.toArray(float[][]::new), neg.toArray(float[][]::new)));
            List<float[]> all = new ArrayList<>(pos);
            all.addAll(neg);
            double mean = all.stream().mapToDouble(z -> Directions.dot(z, theta)).average().orElseThrow();
            double sigma = Math.sqrt(all.stream().mapToDouble(z -> Math.pow(Directions.dot(z, theta) - mean, 2)).sum() / all.size());
            float[] got = c.head(head, d);
            for (int i = 0; i < d; i++) assertThat((double) got[i]).isCloseTo(sigma * theta[i], within(1e-4));
        }
        // Heads not chosen stay zero.
        assertThat(c.head(0, d)).containsOnly(0f);
        assertThat(r.vector().metadata().positions()).isEqualTo(PositionRule.LAST_OF_CALL);
        assertThat(r.vector().metadata().recommendedScale()).isEqualTo(35.0);
    }

    static int[] chatPrompt(String user) {
        return ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(user)), "");
    }

    static List<String> prompts(String file) {
        return JsonlFile.read(LabModels.data(file), Request::fromJson).stream()
                .filter(q -> q.split().equals("train")).map(Request::prompt).toList();
    }
}
