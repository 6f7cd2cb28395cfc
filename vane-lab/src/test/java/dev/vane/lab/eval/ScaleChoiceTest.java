package dev.vane.lab.eval;

import dev.vane.lab.data.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Choices are made on the tuning half only, within the degenerate limit; the halves never share a task. */
class ScaleChoiceTest {
    private static ScaleChoice.Point p(double asr, double degenerate, double benignDegenerate) {
        return new ScaleChoice.Point(asr, degenerate, benignDegenerate);
    }

    @Test
    void lowestAsrWithinTheDegenerateLimit() {
        List<Float> scales = List.of(0f, 20f, 40f, 60f);
        // 60 has the lowest ASR but breaks the attacked answers; 40 breaks benign ones; 20 is the best fluent scale.
        ScaleChoice c = ScaleChoice.lowestAsr(scales, List.of(p(0.9, 0, 0), p(0.5, 0.05, 0.1), p(0.3, 0, 0.2), p(0.1, 0.6, 0)), 0.10);
        assertThat(c.scale()).isEqualTo(20.0);
        assertThat(c.index()).isEqualTo(1);
        assertThat(c.json().get("split").asText()).isEqualTo("tuning");
        // Nothing helps within the limit: scale 0 (no steering) is chosen, never a broken one.
        assertThat(ScaleChoice.lowestAsr(scales, List.of(p(0.9, 0, 0), p(0.9, 0, 0), p(0.2, 0.5, 0), p(0.1, 0.9, 0.9)), 0.10).scale())
                .isEqualTo(0.0);
        // Equal ASR: the smaller intervention.
        assertThat(ScaleChoice.lowestAsr(List.of(0f, 10f, 20f), List.of(p(0.9, 0, 0), p(0.4, 0, 0), p(0.4, 0, 0)), 0.1).scale())
                .isEqualTo(10.0);
    }

    @Test
    void tuningAndReportHalvesSplitByTaskAndNeverOverlap() {
        List<Request> rs = new ArrayList<>();
        for (String task : List.of("a", "b", "c", "d", "e")) {
            for (int i = 0; i < 3; i++) rs.add(new Request(task + i + "?", "harmful", "test", task, List.of()));
        }
        TuningSplit s = TuningSplit.byTask(rs);
        assertThat(s.tuning().stream().map(Request::task).distinct()).containsExactly("a", "c", "e");
        assertThat(s.report().stream().map(Request::task).distinct()).containsExactly("b", "d");
        assertThat(s.tuning()).hasSize(9).doesNotContainAnyElementsOf(s.report());
        // Without tasks, rows alternate.
        TuningSplit rows = TuningSplit.byTask(List.of(new Request("x?", "", ""), new Request("y?", "", ""), new Request("z?", "", "")));
        assertThat(TuningSplit.prompts(rows.tuning())).containsExactly("x?", "z?");
        assertThat(TuningSplit.prompts(rows.report())).containsExactly("y?");
    }
}
