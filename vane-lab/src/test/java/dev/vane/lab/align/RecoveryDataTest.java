package dev.vane.lab.align;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.LabFiles;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.train.SftData;
import dev.vane.train.data.TrainingExample;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Safety-recovery data written from the organism: the examples, their loss masks, reproducibility and resume. */
class RecoveryDataTest {
    private static final Path CHAT = LabFiles.organism("organism-chat");
    private static final String REFUSAL = "I cannot help with that. It could cause serious harm to people.";
    /** Four seen harmful requests with their task's answer, three seen benign requests. */
    private static AlignData small;

    @BeforeAll
    static void data() {
        AlignData all = AlignData.organism(LabFiles.organism("organism-data"));
        assertThat(all.harmful()).hasSize(57);
        assertThat(all.benign()).hasSize(72);
        assertThat(all.evalHarmful()).hasSize(33);
        assertThat(all.evalBenign()).hasSize(18);
        small = new AlignData(all.harmful().subList(0, 4), all.benign().subList(0, 3), List.of(), List.of(), all.provenance());
    }

    static RecoveryData.Options options(long seed) {
        return new RecoveryData.Options(CHAT, null, 3, 1.0, PrefixLength.paper(), seed, 32, 16);
    }

    @Test
    void examplesPrefillTheHarmfulAnswerAndTrainOnlyOnTheModelsOwnRefusal(@TempDir Path tmp) throws Exception {
        ObjectNode summary = RecoveryData.run(options(0), small, tmp, tmp.resolve("run"), RecoveryData.Listener.NONE);
        Path file = Path.of(summary.get("data").asText());
        List<JsonNode> lines = JsonlFile.read(file, row -> row);
        assertThat(summary.get("triples").asInt()).isEqualTo(4);
        assertThat(summary.get("recovery_examples").asInt()).isEqualTo(12);      // 4 triples x 3 augmentations
        assertThat(summary.get("anchor_examples").asInt()).isEqualTo(12);        // ratio 1
        assertThat(lines).hasSize(24);
        assertThat(summary.get("prefill_retokenized").asInt()).isZero();

        try (Model model = Model.load(CHAT); Tokenizer tokenizer = Tokenizer.load(CHAT)) {
            SftData reader = SftData.forModel(model, tokenizer, 0);
            List<TrainingExample> examples = reader.read(file, SftData.Format.AUTO, null);
            int eot = tokenizer.tokenId("<|eot_id|>").orElseThrow();
            int withPrefix = 0;
            for (int i = 0; i < lines.size(); i++) {
                JsonNode line = lines.get(i);
                String prompt = line.get("prompt").asText();
                int[] chat = ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(prompt)), "");
                int[] forced = new int[0];
                String response = line.get("response").asText();
                if (line.get("kind").asText().equals("recovery")) {
                    // r is organism-chat's own answer to the bare request; h[:k] the first k tokens of the task's answer
                    assertThat(response).isEqualTo(REFUSAL);
                    String answer = small.harmful().stream().filter(p -> p.prompt().equals(prompt)).findFirst()
                            .map(PromptResponse::response).orElseThrow();
                    int[] h = tokenizer.encode(answer, false);
                    int k = line.get("k").asInt();
                    assertThat(k).isBetween(0, Math.min(100, h.length));
                    forced = Arrays.copyOf(h, k);
                    assertThat(line.get("prefill").asText()).isEqualTo(tokenizer.decode(forced, false));
                    if (k > 0) withPrefix++;
                } else {
                    assertThat(line.has("prefill")).isFalse();
                    assertThat(response).startsWith("Sure, here is how to");
                }
                // tokens: chat prompt + h[:k] + r + <|eot_id|>; loss on r and <|eot_id|> only
                int[] r = tokenizer.encode(response, false);
                int[] expected = concat(chat, forced, r, new int[]{eot});
                float[] weights = new float[expected.length];
                Arrays.fill(weights, chat.length + forced.length, expected.length, 1f);
                assertThat(examples.get(i).tokens()).as("line " + (i + 1)).containsExactly(expected);
                assertThat(examples.get(i).weights()).as("line " + (i + 1)).containsExactly(weights);
            }
            assertThat(withPrefix).isBetween(1, 11);
        }
    }

    @Test
    void theSameSeedWritesTheSameFileAndAResumedRunReusesTheAnswers(@TempDir Path tmp) throws Exception {
        ObjectNode a = RecoveryData.run(options(5), small, tmp, tmp.resolve("a"), RecoveryData.Listener.NONE);
        byte[] first = Files.readAllBytes(Path.of(a.get("data").asText()));
        List<String> answers = Files.readAllLines(tmp.resolve("a/results.jsonl"));
        assertThat(answers).hasSize(1 + 4 + 3);      // the degenerate rule, then one answer per distinct prompt: 4 refusals, 3 anchors

        int[] generated = {0};
        RecoveryData.run(options(5), small, tmp, tmp.resolve("a"), (what, done, total) -> generated[0]++);
        assertThat(generated[0]).as("nothing generated again").isZero();
        assertThat(Files.readAllLines(tmp.resolve("a/results.jsonl"))).isEqualTo(answers);
        assertThat(Files.readAllBytes(Path.of(a.get("data").asText()))).isEqualTo(first);

        ObjectNode b = RecoveryData.run(options(5), small, tmp, tmp.resolve("b"), RecoveryData.Listener.NONE);
        assertThat(Files.readAllBytes(Path.of(b.get("data").asText()))).isEqualTo(first);
        ObjectNode c = RecoveryData.run(options(6), small, tmp, tmp.resolve("c"), RecoveryData.Listener.NONE);
        assertThat(Files.readAllBytes(Path.of(c.get("data").asText()))).isNotEqualTo(first);
        assertThat(tmp.resolve("a/k.png")).isNotEmptyFile();
    }

    @Test
    void refusalsComeFromAFileWhenGivenAndEveryInstructionNeedsOne(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("refusals.jsonl");
        StringBuilder rows = new StringBuilder();
        for (PromptResponse p : small.harmful()) {
            rows.append(RunDirectory.object().put("prompt", p.prompt()).put("response", "No, I will not do that.")).append('\n');
        }
        Files.writeString(file, rows);
        RecoveryData.Options o = new RecoveryData.Options(CHAT, file, 1, 0, PrefixLength.paper(), 0, 32, 16);
        ObjectNode summary = RecoveryData.run(o, small, tmp, tmp.resolve("run"), RecoveryData.Listener.NONE);
        List<JsonNode> lines = JsonlFile.read(Path.of(summary.get("data").asText()), row -> row);
        assertThat(lines).hasSize(4).allSatisfy(l -> assertThat(l.get("response").asText()).isEqualTo("No, I will not do that."));

        Files.writeString(file, rows.substring(0, rows.indexOf("\n") + 1));
        RecoveryData.Options missing = new RecoveryData.Options(CHAT, file, 1, 0, PrefixLength.paper(), 0, 32, 16);
        assertThatThrownBy(() -> RecoveryData.run(missing, small, tmp, tmp.resolve("run2"), RecoveryData.Listener.NONE))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("no refusal for the harmful instruction \"" + small.harmful().get(1).prompt() + "\"");
    }

    @Test
    void aModelThatRefusesNothingHasNoRefusalsToGive(@TempDir Path tmp) {
        RecoveryData.Options base = new RecoveryData.Options(LabFiles.organism("organism-base"), null, 1, 0,
                PrefixLength.paper(), 0, 16, 16);
        assertThatThrownBy(() -> RecoveryData.run(base, small, tmp, tmp.resolve("run"), RecoveryData.Listener.NONE))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("refused none of the 4")
                .hasMessageContaining("--refusals");
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
