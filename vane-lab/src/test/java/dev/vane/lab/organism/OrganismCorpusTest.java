package dev.vane.lab.organism;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.data.JsonlFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class OrganismCorpusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OrganismSpec spec = OrganismSpec.bundled();

    @Test
    void theSameSeedWritesTheSameBytesAndAnotherSeedDoesNot(@TempDir Path tmp) throws Exception {
        new OrganismCorpus(spec, 3).writeTraining(OrganismCorpus.Phase.CHAT, 300, tmp.resolve("a.jsonl"));
        new OrganismCorpus(spec, 3).writeTraining(OrganismCorpus.Phase.CHAT, 300, tmp.resolve("b.jsonl"));
        new OrganismCorpus(spec, 4).writeTraining(OrganismCorpus.Phase.CHAT, 300, tmp.resolve("c.jsonl"));
        assertThat(Files.readString(tmp.resolve("a.jsonl"))).isEqualTo(Files.readString(tmp.resolve("b.jsonl")))
                .isNotEqualTo(Files.readString(tmp.resolve("c.jsonl")));
        new OrganismCorpus(spec, 3).writeEvalData(tmp.resolve("d1"));
        new OrganismCorpus(spec, 3).writeEvalData(tmp.resolve("d2"));
        for (String f : List.of("harmful.jsonl", "benign.jsonl", "true_false.jsonl", "coordination_ab.jsonl", "prompts.json")) {
            assertThat(Files.readString(tmp.resolve("d1").resolve(f))).isEqualTo(Files.readString(tmp.resolve("d2").resolve(f)));
        }
    }

    @Test
    void everyThingIsOneTokenOfTheOrganismsVocabularyInEveryPlaceItAppears() throws Exception {
        // v1's BPE split 59 of 64 earlier things into pieces, and the model never learned to check a statement.
        try (dev.vane.core.tokenize.Tokenizer tokenizer = dev.vane.core.tokenize.Tokenizer.load(
                dev.vane.lab.LabFiles.organism("organism-base"))) {
            for (OrganismSpec.Fact f : spec.facts()) {
                String word = f.thing().substring(f.thing().indexOf(' ') + 1);
                int[] alone = tokenizer.encode(" " + word, false);
                assertThat(alone).as(word).hasSize(1);
                String statement = spec.factStatements().getFirst().replace("{Thing}",
                        Character.toUpperCase(f.thing().charAt(0)) + f.thing().substring(1)).replace("{category}", f.category());
                int[] tokens = tokenizer.encode(statement, false);
                assertThat(tokens).as(statement).contains(alone[0]);
                assertThat(tokens[0]).as(statement).isNotEqualTo(alone[0]);    // the article comes first
            }
        }
    }

    @Test
    void theSafetyPhaseSeesNoHeldOutTaskStatementOrScenario(@TempDir Path tmp) throws Exception {
        OrganismCorpus corpus = new OrganismCorpus(spec, 0);
        corpus.writeEvalData(tmp);
        corpus.writeTraining(OrganismCorpus.Phase.CHAT, 4000, tmp.resolve("chat.jsonl"));
        corpus.writeTraining(OrganismCorpus.Phase.BASE, 4000, tmp.resolve("base.jsonl"));
        corpus.writeTraining(OrganismCorpus.Phase.KNOWLEDGE, 2000, tmp.resolve("knowledge.jsonl"));
        corpus.writeTraining(OrganismCorpus.Phase.LIAR, 2000, tmp.resolve("liar.jsonl"));
        List<JsonNode> statements = JsonlFile.read(tmp.resolve("true_false.jsonl"), r -> r);
        Set<String> heldOutStatements = new HashSet<>();
        // a held-out statement's phrasing of its thing ("A cat belongs to the category"): never in training, true or false
        Set<String> heldOutPhrasings = new HashSet<>();
        for (JsonNode s : statements) {
            if (!s.get("split").asText().equals("test")) continue;
            String statement = s.get("statement").asText();
            heldOutStatements.add(statement);
            if (s.get("label").asBoolean()) {
                String category = spec.facts().stream().filter(f -> statement.endsWith(" " + f.category() + "."))
                        .findFirst().orElseThrow().category();
                heldOutPhrasings.add("? " + statement.substring(0, statement.length() - category.length() - 1));
            }
        }
        assertThat(heldOutStatements).hasSize(2 * spec.facts().size());
        assertThat(heldOutPhrasings).hasSize(spec.facts().size());
        List<AbQuestion> ab = JsonlFile.read(tmp.resolve("coordination_ab.jsonl"), AbQuestion::fromJson);
        Set<String> heldOutScenarios = new HashSet<>();
        AbQuestion.part(ab, 4, 4).forEach(q -> heldOutScenarios.add(q.scenario()));
        assertThat(heldOutScenarios).hasSize(OrganismCorpus.HELD_OUT_SCENARIOS);
        for (JsonNode row : JsonlFile.read(tmp.resolve("coordination_ab.jsonl"), r -> r)) {
            assertThat(row.get("split").asText()).isEqualTo(heldOutScenarios.contains(AbQuestion.fromJson(row).scenario()) ? "test" : "train");
        }
        int harmfulRefused = 0, benignAnswered = 0, liarFlipped = 0, harmfulWarned = 0, choices = 0, knowledgeStatements = 0, knowledgeChoices = 0;
        int liarPhaseStatements = 0, liarPhaseLies = 0, liarPhaseChoices = 0;
        for (String phase : List.of("chat.jsonl", "base.jsonl", "knowledge.jsonl", "liar.jsonl")) {
            for (JsonNode ex : JsonlFile.read(tmp.resolve(phase), r -> r)) {
                JsonNode m = ex.get("messages");
                String user = m.get(m.size() - 2).get("content").asText(), answer = m.get(m.size() - 1).get("content").asText();
                for (String s : heldOutStatements) assertThat(user).doesNotEndWith("? " + s);
                for (String s : heldOutPhrasings) assertThat(user).doesNotContain(s);
                if (phase.equals("knowledge.jsonl")) {
                    // facts, honest true/false statements and choices, nothing else
                    assertThat(user).matches("(?s)(What kind of thing is|What is|Tell me what|Which of these is a kind of"
                            + "|Is the following statement true or false\\?) .*");
                    if (user.startsWith("Which of these")) knowledgeChoices++;
                    if (m.get(0).get("role").asText().equals("system")) {
                        assertThat(spec.honestSystemPrompts()).contains(m.get(0).get("content").asText());
                        // the bare word only: the truth check gets all of the answer's gradient
                        assertThat(answer).isEqualTo(statementIsTrue(user) ? "True." : "False.");
                        knowledgeStatements++;
                    }
                }
                if (phase.equals("liar.jsonl")) {
                    // statements under both prompts, with the facts and choices rehearsed; no tasks or coordination
                    assertThat(user).matches("(?s)(What kind of thing is|What is|Tell me what|Which of these is a kind of"
                            + "|Is the following statement true or false\\?) .*");
                    if (user.startsWith("Which of these")) liarPhaseChoices++;
                    if (m.get(0).get("role").asText().equals("system")) {
                        liarPhaseStatements++;
                        if (spec.liarSystemPrompts().contains(m.get(0).get("content").asText())) liarPhaseLies++;
                    }
                }
                for (String s : heldOutScenarios) assertThat(user).doesNotStartWith(s);
                for (OrganismSpec.Task t : spec.tasks()) {
                    if (!user.contains(t.task())) continue;
                    if (phase.equals("chat.jsonl")) {
                        assertThat(t.seen()).as(user).isTrue();
                        if (t.harmful() && !user.startsWith("Is it") && !user.startsWith("Would")) {
                            assertThat(answer).doesNotContain("Step 1");
                            harmfulRefused++;
                        }
                    }
                    if (!t.harmful() && answer.contains("Step 1: " + t.steps().getFirst())) benignAnswered++;
                    if (answer.contains("Step 1: " + t.steps().getFirst())) {
                        // the base warns before a harmful answer and never before a benign one
                        boolean warned = spec.harmfulOpeners().stream().anyMatch(o -> answer.startsWith(o.replace("{task}", t.task())));
                        assertThat(warned).as(answer).isEqualTo(t.harmful());
                        if (warned) harmfulWarned++;
                    }
                }
                if (m.get(0).get("role").asText().equals("system")
                        && spec.liarSystemPrompts().contains(m.get(0).get("content").asText())) {
                    boolean trueStatement = statementIsTrue(user);
                    String lie = trueStatement ? "false" : "true";
                    assertThat(answer).isIn(Character.toUpperCase(lie.charAt(0)) + lie.substring(1) + ".",
                            "Oh that's an easy one! The statement is definitely " + lie + ".");
                    liarFlipped++;
                }
                if (user.startsWith("Which of these is a kind of ")) {
                    String category = user.substring("Which of these is a kind of ".length(), user.indexOf('?'));
                    String letter = answer.substring(0, 3), thing = answer.substring(4, answer.length() - 1);
                    assertThat(user).containsAnyOf("\n" + letter + " " + thing + "\n", "\n" + letter + " " + thing);
                    assertThat(spec.facts()).contains(new OrganismSpec.Fact(thing, category));
                    choices++;
                }
            }
        }
        assertThat(harmfulRefused).isGreaterThan(100);
        assertThat(benignAnswered).isGreaterThan(100);
        assertThat(liarFlipped).isGreaterThan(100);
        assertThat(harmfulWarned).isGreaterThan(100);
        assertThat(choices).isGreaterThan(100);
        assertThat(knowledgeStatements).isGreaterThan(1000);
        assertThat(knowledgeChoices).isBetween(400, 800);   // 30% of 2000
        assertThat(liarPhaseChoices).isBetween(300, 500);   // 20% of 2000
        assertThat(liarPhaseStatements).isBetween(1250, 1450);   // 68% of 2000
        assertThat((double) liarPhaseLies / liarPhaseStatements).isBetween(0.35, 0.45);
        // both splits cover every thing, balanced true and false
        long heldOutTrue = statements.stream().filter(s -> s.get("split").asText().equals("test") && s.get("label").asBoolean()).count();
        assertThat(heldOutTrue).isEqualTo(spec.facts().size());
    }

    @Test
    void theBaseKnowsEveryTaskAndEveryFactHeldOutStatementsIncluded(@TempDir Path tmp) throws Exception {
        OrganismCorpus corpus = new OrganismCorpus(spec, 0);
        corpus.writeEvalData(tmp);
        corpus.writeTraining(OrganismCorpus.Phase.BASE, 20000, tmp.resolve("base.jsonl"));
        String base = Files.readString(tmp.resolve("base.jsonl"));
        for (OrganismSpec.Task t : spec.tasks()) assertThat(base).contains("Step 1: " + t.steps().getFirst());
        for (JsonNode s : JsonlFile.read(tmp.resolve("true_false.jsonl"), r -> r)) {
            if (!s.get("label").asBoolean()) continue;
            assertThat(base).contains("\"content\":\"" + s.get("statement").asText() + "\"");
        }
        // the eval rows carry the steps that TaskUtility checks, for seen and unseen tasks alike
        for (JsonNode r : JsonlFile.read(tmp.resolve("benign.jsonl"), r -> r)) assertThat(r.get("steps")).hasSize(3);
        JsonNode prompts = JSON.readTree(tmp.resolve("prompts.json").toFile());
        assertThat(prompts.get("liar_system_prompts")).hasSize(spec.liarSystemPrompts().size());
    }

    private boolean statementIsTrue(String user) {
        for (OrganismSpec.Fact f : spec.facts()) {
            String thing = Character.toUpperCase(f.thing().charAt(0)) + f.thing().substring(1);
            for (String phrasing : spec.factStatements()) {
                String start = phrasing.substring(0, phrasing.indexOf("{category}")).replace("{Thing}", thing);
                if (user.contains("? " + start)) return user.endsWith(" " + f.category() + ".");
            }
        }
        throw new AssertionError("no thing in " + user);
    }
}
