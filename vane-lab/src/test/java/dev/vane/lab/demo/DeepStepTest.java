package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DeepStepTest {
    private static final Path MODELS = Path.of(System.getProperty("vane.home", ".."), "models");

    @Test
    void withoutATwinTheStepSaysSoAndLoadsNothing(@TempDir Path tmp) throws Exception {
        DeepStep step = new DeepStep();
        try (DemoContext ctx = new DemoContext(MODELS.resolve("organism-chat"), MODELS.resolve("organism-base"),
                DemoInputs.inDirectory(MODELS.resolve("organism-data")), DemoSizes.quick())) {
            RunDirectory run = RunDirectory.openOrCreate(tmp, "deep", tmp.resolve("deep"), step.config(ctx));
            step.run(ctx, run, StepProgress.NONE);
            JsonNode summary = RunDirectory.JSON.readTree(Files.readString(run.path("summary.json")));
            assertThat(summary.get("shown").asBoolean()).isFalse();
            assertThat(summary.get("reason").asText()).contains("--deep DIR");
            assertThat(Files.exists(run.path("prefill"))).isFalse();
            HtmlReport report = new HtmlReport("t");
            step.addTo(report, ctx, summary, step.headline(summary));
            assertThat(report.html()).contains("9. Make it deep").contains("Not shown: no deep-aligned twin");
        }
    }
}
