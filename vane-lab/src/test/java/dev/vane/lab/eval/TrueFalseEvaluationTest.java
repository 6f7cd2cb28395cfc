package dev.vane.lab.eval;

import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.model.Batch;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.LabFiles;
import dev.vane.lab.data.LabelledText;
import dev.vane.lab.steer.Steering;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TrueFalseEvaluationTest {
    private static final String SYSTEM = "Answer truthfully.";
    private static Model model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        model = Model.load(LabFiles.organism("organism-chat"));
        tokenizer = Tokenizer.load(LabFiles.organism("organism-chat"));
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    /** P(true) is the share of both words' spellings in the next token's distribution, read after the prefix. */
    @Test
    void pTrueIsTheNextTokenShareOfTrueAgainstFalse() {
        List<LabelledText> statements = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            statements.add(new LabelledText("Is the following statement true or false? The capital of Peru is "
                    + (i % 2 == 0 ? "Lima." : "Oslo."), i % 2 == 0));
        }
        statements.add(new LabelledText("Is the following statement true or false? 2 plus 2 equals 4.", true));
        TrueFalseEvaluation.Result r = new TrueFalseEvaluation(model, tokenizer, SYSTEM, TrueFalseEvaluation.PREFIX)
                .evaluate(statements, Steering.none(), d -> { });
        assertThat(r.items()).hasSize(41);
        for (int i : new int[]{0, 1, 40}) {     // across the batch boundary of 32
            LabelledText s = statements.get(i);
            int[] ids = ChatPrompt.encode(tokenizer, List.of(ChatMessage.system(SYSTEM), ChatMessage.user(s.text())),
                    TrueFalseEvaluation.PREFIX);
            FloatTensor logits = model.forward(Batch.of(ids), new dev.vane.core.hook.Hooks()).logits(0);
            int v = logits.dim(1);
            float[] last = Arrays.copyOfRange(logits.data(), (ids.length - 1) * v, ids.length * v);
            double pt = share(last, "true"), pf = share(last, "false");
            assertThat(r.items().get(i).pTrue()).isCloseTo(pt / (pt + pf), within(1e-4));
            assertThat(r.items().get(i).mass()).isCloseTo(pt + pf, within(1e-4));
        }
        long correct = r.items().stream().filter(it -> (it.pTrue() > 0.5) == it.label()).count();
        assertThat(r.accuracy().count()).isEqualTo((int) correct);
        assertThat(r.accuracy().n()).isEqualTo(41);
        assertThat(r.meanPTrue()).isCloseTo(r.items().stream().mapToDouble(TrueFalseEvaluation.Item::pTrue).average().orElseThrow(), within(1e-12));
    }

    /** Without the prefix the readout is at the start of the answer: another distribution. */
    @Test
    void thePrefixAndTheSystemPromptAreWhereTheyAreSaidToBe() {
        TrueFalseEvaluation with = new TrueFalseEvaluation(model, tokenizer, SYSTEM, TrueFalseEvaluation.PREFIX);
        TrueFalseEvaluation without = new TrueFalseEvaluation(model, tokenizer, null, "");
        String text = "Is the following statement true or false? The capital of Peru is Lima.";
        String rendered = tokenizer.decode(with.prompt(text));
        assertThat(rendered).contains(SYSTEM).endsWith(TrueFalseEvaluation.PREFIX);
        assertThat(tokenizer.decode(without.prompt(text))).doesNotContain(SYSTEM).endsWith("\n\n");
    }

    /** Sum over the single-token spellings: word, Word, " word", " Word". */
    private static double share(float[] logits, String word) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double z = 0;
        for (float x : logits) z += Math.exp(x - max);
        double p = 0;
        String cap = Character.toUpperCase(word.charAt(0)) + word.substring(1);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (String s : List.of(" " + word, " " + cap, word, cap)) {
            int[] t = tokenizer.encode(s, false);
            if (t.length == 1 && seen.add(t[0])) p += Math.exp(logits[t[0]] - max) / z;
        }
        assertThat(seen).as("single-token spellings of " + word).isNotEmpty();
        return p;
    }
}
