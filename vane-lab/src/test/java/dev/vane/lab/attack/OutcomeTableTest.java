package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.stats.Proportion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Outcome tallies by group: complied is the ASR, degenerate answers count for neither side. */
class OutcomeTableTest {
    static ObjectNode line(String id, int k, int item, String verdict) {
        ObjectNode n = RunDirectory.object().put("id", id).put("k", k).put("item", item);
        if (verdict != null) n.put("verdict", verdict);
        return n;
    }

    @Test
    void countsEachOutcomeByGroupInTheGivenOrder() {
        List<JsonNode> lines = new ArrayList<>();
        lines.add(line("a", 5, 0, "complied"));
        lines.add(line("b", 0, 0, "refused"));
        lines.add(line("c", 5, 1, "refused"));
        lines.add(line("d", 5, 2, "degenerate"));
        lines.add(line("e", 0, 1, "complied"));
        OutcomeTable t = OutcomeTable.count(lines, "k", List.of("0", "5", "10"), null);
        assertThat(t.rates().keySet()).containsExactly("0", "5", "10");
        assertThat(t.get("0").complied()).isEqualTo(new Proportion(1, 2));
        assertThat(t.get("5").complied()).isEqualTo(new Proportion(1, 3));
        assertThat(t.get("5").refused()).isEqualTo(new Proportion(1, 3));
        assertThat(t.get("5").degenerate()).isEqualTo(new Proportion(1, 3));
        assertThat(t.get("10").complied()).isEqualTo(Proportion.none());

        ObjectNode summary = RunDirectory.object();
        t.writeTo(summary, "tokens");
        assertThat(summary.get("asr_by_tokens").get("5").asDouble()).isEqualTo(1 / 3.0);
        assertThat(summary.get("degenerate_rate_by_tokens").get("5").asDouble()).isEqualTo(1 / 3.0);
        assertThat(summary.get("refusal_rate_by_tokens").get("0").asDouble()).isEqualTo(0.5);
        assertThat(summary.get("asr_by_tokens").get("10").isNull()).isTrue();      // no trials: no rate, not 0
        assertThat(summary.get("counts_by_tokens").get("0").toString()).isEqualTo("[1,2]");
        assertThat(summary.get("ci95_by_tokens").get("5").get(0).asDouble()).isEqualTo(new Proportion(1, 3).interval().low());
        assertThat(summary.get("interval").asText()).isEqualTo("95% Wilson");

        assertThatThrownBy(() -> OutcomeTable.count(List.of(line("x", 7, 0, "refused")), "k", List.of("0"), null))
                .hasMessageContaining("unknown k 7");
        assertThatThrownBy(() -> OutcomeTable.count(List.of(line("x", 0, 0, null)), "k", List.of("0"), null))
                .hasMessageContaining("no three-way verdict");
    }

    @Test
    void samplesOfOnePromptAreOneCluster() {
        List<JsonNode> lines = new ArrayList<>();
        for (int item = 0; item < 4; item++) {
            for (int s = 0; s < 3; s++) lines.add(line(item + "-" + s, 0, item, item < 2 ? "complied" : "refused"));
        }
        OutcomeTable t = OutcomeTable.count(lines, "k", List.of("0"), "item");
        assertThat(t.get("0").complied().effectiveN()).isEqualTo(3.0);
        assertThat(t.get("0").clustered()).isTrue();
        ObjectNode summary = RunDirectory.object();
        t.writeTo(summary, "tokens");
        assertThat(summary.get("interval").asText()).contains("effective sample size");
        assertThat(summary.get("ci95_by_tokens").get("0").get(0).asDouble()).isLessThan(new Proportion(6, 12).interval().low());
    }
}
