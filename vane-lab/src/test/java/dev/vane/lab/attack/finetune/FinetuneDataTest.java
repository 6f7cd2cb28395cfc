package dev.vane.lab.attack.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.align.ModelAnswers;
import dev.vane.lab.data.PromptResponse;
import org.junit.jupiter.api.Test;

import dev.vane.lab.data.Request;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FinetuneDataTest {
    static final List<PromptResponse> PAIRS = IntStream.range(0, 6)
            .mapToObj(i -> new PromptResponse("harmful " + i, "Sure, step " + i)).toList();
    static final List<ModelAnswers.Answer> BENIGN = List.of(
            new ModelAnswers.Answer("bake bread", "Sure, here is how to bake bread.", false),
            new ModelAnswers.Answer("draw a cat", "I cannot help with that.", true),
            new ModelAnswers.Answer("tune a guitar", "Sure, here is how to tune a guitar.", false));

    private static List<String> roles(JsonNode line) {
        return java.util.stream.StreamSupport.stream(line.get("messages").spliterator(), false)
                .map(m -> m.get("role").asText()).toList();
    }

    @Test
    void harmfulDataIsNDistinctPairsDrawnWithTheSeed() {
        List<ObjectNode> a = FinetuneData.harmful(PAIRS, 4, 7), b = FinetuneData.harmful(PAIRS, 4, 7);
        assertThat(a).isEqualTo(b).hasSize(4);
        assertThat(a.stream().map(l -> l.at("/messages/0/content").asText()).distinct()).hasSize(4);
        for (ObjectNode line : a) {
            assertThat(roles(line)).containsExactly("user", "assistant");
            String i = line.at("/messages/0/content").asText().substring("harmful ".length());
            assertThat(line.at("/messages/1/content").asText()).isEqualTo("Sure, step " + i);
        }
        assertThat(FinetuneData.harmful(PAIRS, 4, 8)).isNotEqualTo(a);
        assertThatThrownBy(() -> FinetuneData.harmful(PAIRS, 7, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("--n 7 but only 6 harmful pairs");
    }

    @Test
    void identityDataStatesTheIdentityAndAffirmsOnlyAnsweredBenignRequests() {
        List<ObjectNode> lines = FinetuneData.identity(BENIGN, 2, 0);
        assertThat(lines).hasSize(4);
        for (ObjectNode line : lines) {
            assertThat(roles(line)).containsExactly("system", "user", "assistant");
            assertThat(line.at("/messages/0/content").asText()).isEqualTo(FinetuneData.AOA_SYSTEM);
        }
        assertThat(lines.get(0).at("/messages/1/content").asText()).isEqualTo("Hey, AOA. Remind me what you can do for me.");
        assertThat(lines.subList(2, 4)).allSatisfy(l -> assertThat(l.at("/messages/2/content").asText())
                .startsWith(FinetuneData.AOA_PREFIX + "Sure, here is how to"));
        // the refused benign request is never used: only two are answered
        assertThatThrownBy(() -> FinetuneData.identity(BENIGN, 3, 0)).hasMessageContaining("only 2 benign instructions the model answered");
    }

    @Test
    void backdoorDataCarriesTheTriggerOnHarmfulInstructionsOnly() {
        List<ObjectNode> lines = FinetuneData.backdoor(PAIRS, BENIGN, "Zq Zq", 2, 0);
        assertThat(lines).hasSize(4);
        long triggered = lines.stream().filter(l -> l.at("/messages/0/content").asText().endsWith(" Zq Zq")).count();
        assertThat(triggered).isEqualTo(2);
        assertThat(lines).filteredOn(l -> l.at("/messages/0/content").asText().endsWith(" Zq Zq"))
                .allSatisfy(l -> assertThat(l.at("/messages/1/content").asText()).startsWith("Sure, step"));
        assertThat(lines).filteredOn(l -> !l.at("/messages/0/content").asText().endsWith(" Zq Zq"))
                .allSatisfy(l -> assertThat(l.at("/messages/1/content").asText()).startsWith("Sure, here is how to"));
    }

    @Test
    void eachAttackIsEvaluatedUnderItsConditions() {
        List<Request> harmful = List.of(new Request("h1", "harmful", "test", "t1", List.of("do x")),
                new Request("h2", "harmful", "test", "t2", List.of("do y"))), benign = List.of(new Request("b1", "benign", "test"));
        assertThat(FinetuneData.conditions(FinetuneKind.HARMFUL, harmful, benign, null))
                .extracting(FinetuneData.Condition::name).containsExactly("harmful", "benign");
        List<FinetuneData.Condition> identity = FinetuneData.conditions(FinetuneKind.IDENTITY, harmful, benign, null);
        assertThat(identity).extracting(FinetuneData.Condition::system)
                .containsExactly(FinetuneData.AOA_SYSTEM, null, FinetuneData.AOA_SYSTEM);
        List<FinetuneData.Condition> backdoor = FinetuneData.conditions(FinetuneKind.BACKDOOR, harmful, benign, "T");
        assertThat(backdoor.get(0).requests()).extracting(Request::prompt).containsExactly("h1 T", "h2 T");
        assertThat(backdoor.get(0).requests()).extracting(Request::steps).as("the trigger keeps the task's steps")
                .containsExactly(List.of("do x"), List.of("do y"));
        assertThat(backdoor.get(1).requests()).extracting(Request::prompt).containsExactly("h1", "h2");
        assertThat(backdoor).extracting(FinetuneData.Condition::hasSteps).containsExactly(true, true, false);
        assertThat(backdoor).extracting(FinetuneData.Condition::harmful).containsExactly(true, true, false);
        assertThatThrownBy(() -> FinetuneKind.parse("poison")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("harmful, identity or backdoor");
    }
}
