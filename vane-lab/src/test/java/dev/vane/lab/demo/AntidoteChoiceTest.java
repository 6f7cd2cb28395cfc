package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.run.RunDirectory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's Antidote scale is chosen on the tuning split: whatever the report split says never moves the choice. */
class AntidoteChoiceTest {
    private static ObjectNode split(double asr, double degenerate, double benignDegenerate) {
        return RunDirectory.object().put("asr", asr).put("degenerate_rate", degenerate).put("benign_degenerate_rate", benignDegenerate);
    }

    private static List<JsonNode> rows(double[][] tuning, double[][] report) {
        List<JsonNode> rows = new ArrayList<>();
        for (int i = 0; i < tuning.length; i++) {
            ObjectNode r = RunDirectory.object();
            r.set("tuning", split(tuning[i][0], tuning[i][1], tuning[i][2]));
            r.set("report", split(report[i][0], report[i][1], report[i][2]));
            rows.add(r);
        }
        return rows;
    }

    @Test
    void theReportSplitNeverFeedsTheChoice() {
        List<Float> scales = List.of(0f, 20f, 40f, 60f);
        double[][] tuning = {{0.9, 0, 0}, {0.6, 0, 0}, {0.4, 0.05, 0}, {0.1, 0.5, 0.3}};
        double[][] report = {{0.8, 0, 0}, {0.7, 0, 0}, {0.5, 0, 0}, {0.2, 0, 0}};
        assertThat(AntidoteStep.choose(scales, rows(tuning, report)).scale()).isEqualTo(40.0);
        // A report split that would favour 20 (or 60) changes nothing.
        double[][] otherReport = {{0.0, 0, 0}, {0.0, 0, 0}, {0.9, 0.9, 0.9}, {0.0, 0, 0}};
        assertThat(AntidoteStep.choose(scales, rows(tuning, otherReport)).scale()).isEqualTo(40.0);
        // The tuning split does decide it.
        double[][] otherTuning = {{0.9, 0, 0}, {0.3, 0, 0}, {0.4, 0.05, 0}, {0.1, 0.5, 0.3}};
        assertThat(AntidoteStep.choose(scales, rows(otherTuning, report)).scale()).isEqualTo(20.0);
    }
}
