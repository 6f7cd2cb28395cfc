package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;

/**
 * One step of the demo: a small adapter over one method's library API. It runs in its own run directory
 * ({@code OUT/<name>}), where the method writes {@code config.json}, {@code results.jsonl}, {@code summary.json}
 * and its chart as it would from its own command; the demo then reads the step's headline figures and its report
 * section back from that {@code summary.json} alone, so that a resumed step and a fresh one report the same.
 *
 * <pre>{@code
 * RunDirectory run = RunDirectory.openOrCreate(out, step.name(), out.resolve(step.name()), step.config(ctx));
 * step.run(ctx, run, progress);                  // writes run/summary.json
 * JsonNode summary = RunDirectory.JSON.readTree(run.path("summary.json").toFile());
 * ObjectNode headline = step.headline(summary);
 * step.addTo(report, ctx, summary, headline);
 * }</pre>
 */
public interface DemoStep {
    /** The run directory's name under the demo's folder, and the step's key in the demo's summary. */
    String name();

    /** What the step measures, for the progress lines ("per-token KL of the chat model against its base"). */
    String description();

    /** Everything the step's result depends on (model, data hashes, sizes): a changed config is not resumed. */
    ObjectNode config(DemoContext ctx);

    /** Runs what is missing of the step in {@code run} and writes its {@code summary.json}. */
    void run(DemoContext ctx, RunDirectory run, StepProgress progress);

    /** The headline figures of a step summary (the step's part of the demo's {@code summary.json}). */
    ObjectNode headline(JsonNode summary);

    /** Adds the step's section (a sentence, a chart, the numbers) to the report. */
    void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline);

    /**
     * For a step that can decline to draw (its summary has {@code "shown": false} and a {@code "reason"}): adds the
     * section saying why and returns true; otherwise adds nothing and returns false.
     */
    static boolean sectionNotShown(HtmlReport report, String heading, JsonNode summary) {
        if (summary.path("shown").asBoolean()) return false;
        report.section(heading, "Not shown: " + summary.path("reason").asText() + ".", null, null);
        return true;
    }
}
