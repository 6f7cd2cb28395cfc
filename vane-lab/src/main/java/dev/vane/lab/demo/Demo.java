package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code vane demo}: what Vane finds and fixes, in one run on one model and its base. Nine steps, each a small
 * adapter over one method ({@link KlStep}, {@link PrefillStep}, {@link AntidoteStep}, {@link CaaStep},
 * {@link ProbeStep}, {@link LyingStep}, {@link HsiStep}, {@link GatedStep}, {@link DeepStep}), each in its own run
 * directory under the demo's folder; then {@code summary.json} (the
 * headline figures, read back from the steps' own summaries) and {@code report.html} (one self-contained page).
 *
 * <p>The demo's folder is itself a run directory: {@code config.json} (models, data, sizes), {@code results.jsonl}
 * (one line per finished step with its wall time). Rerunning on the same folder skips every step whose
 * {@code summary.json} exists and resumes an unfinished one where it stopped.
 *
 * <pre>{@code
 * Demo.Result r = new Demo(Path.of("models/organism-chat"), Path.of("models/organism-base"),
 *         DemoInputs.inDirectory(Path.of("models/organism-data")), DemoSizes.full())
 *         .run(Path.of("runs"), null, Demo.Listener.NONE);
 * r.summary().get("prefill").get("asr_by_tokens");     // {"0": 0.1, "5": 0.8, ...}
 * r.report();                                          // runs/demo-<time>/report.html
 * }</pre>
 */
public final class Demo {
    /** Follows the demo step by step. */
    public interface Listener {
        /** Ignores everything. */
        Listener NONE = new Listener() { };

        /** Step {@code index} (1-based) of {@code count} starts; {@code resumed} when it had started before. */
        default void stepStarted(int index, int count, DemoStep step, boolean resumed) {
        }

        /** The running step's progress. */
        default StepProgress progress() {
            return StepProgress.NONE;
        }

        /** The step is done; {@code skipped} when its summary was already there (nothing ran). */
        default void stepFinished(int index, int count, DemoStep step, double seconds, boolean skipped) {
        }
    }

    /** What the demo wrote: its folder, {@code summary.json}'s content and {@code report.html}. */
    public record Result(Path directory, ObjectNode summary, Path report) { }

    /** The steps in report order. */
    public static final List<DemoStep> STEPS = List.of(new KlStep(), new PrefillStep(), new AntidoteStep(),
            new CaaStep(), new ProbeStep(), new LyingStep(), new HsiStep(), new GatedStep(), new DeepStep());

    private final Path model;
    private final Path base;
    private final DemoInputs inputs;
    private final DemoSizes sizes;
    private final Path deep;

    public Demo(Path model, Path base, DemoInputs inputs, DemoSizes sizes) {
        this(model, base, null, inputs, sizes);
    }

    private Demo(Path model, Path base, Path deep, DemoInputs inputs, DemoSizes sizes) {
        this.model = model;
        this.base = base;
        this.deep = deep;
        this.inputs = inputs;
        this.sizes = sizes;
    }

    /** This demo with {@code deep}, the chat model's deep-aligned twin, for step 9 (null: none, the step says so). */
    public Demo withDeep(Path deep) {
        return new Demo(model, base, deep, inputs, sizes);
    }

    /** The demo's config: what its folder holds results of. */
    ObjectNode config() {
        ObjectNode c = RunDirectory.object().put("job", "demo")
                .put("model", model.toAbsolutePath().normalize().toString())
                .put("base", base.toAbsolutePath().normalize().toString());
        if (deep != null) c.put("deep", deep.toAbsolutePath().normalize().toString());
        ObjectNode data = c.putObject("data");
        data.put("harmful", inputs.harmfulFile().toAbsolutePath().normalize().toString())
                .put("benign", inputs.benignFile().toAbsolutePath().normalize().toString())
                .put("responses", inputs.responsesFile().toAbsolutePath().normalize().toString())
                .put("ab", inputs.abFile().toAbsolutePath().normalize().toString());
        c.set("sizes", sizes.json());
        return c;
    }

    /** Runs (or resumes) the demo in {@code out}, or in a new {@code root/demo-<timestamp>} when {@code out} is null. */
    public Result run(Path root, Path out, Listener listener) {
        return run(root, out, listener, WorkExecutor.local());
    }

    /**
     * {@link #run(Path, Path, Listener)} with the work items of the prefilling attack (step 2) and of the head sweep
     * (step 7) handed to {@code executor}; the other steps are small and run in this JVM.
     */
    public Result run(Path root, Path out, Listener listener, WorkExecutor executor) {
        inputs.check();
        for (Path dir : deep == null ? List.of(model, base) : List.of(model, base, deep)) {
            if (!Files.isDirectory(dir)) throw new InvalidInputException(dir + ": no such model directory");
        }
        RunDirectory demo = RunDirectory.openOrCreate(root, "demo", out, config());
        ResultsLog timings = demo.results();
        ObjectNode summary = RunDirectory.object().put("model", model.toAbsolutePath().normalize().toString())
                .put("base", base.toAbsolutePath().normalize().toString())
                .put("quick", sizes.equals(DemoSizes.quick()));
        summary.set("sizes", sizes.json());
        ObjectNode timing = RunDirectory.object();
        ObjectNode dirs = RunDirectory.object();
        HtmlReport report = new HtmlReport("What Vane finds and fixes: " + model.toAbsolutePath().normalize().getFileName());
        try (DemoContext ctx = new DemoContext(model, base, deep, inputs, sizes, executor)) {
            report.paragraph(introduction(ctx));
            double total = 0;
            for (int i = 0; i < STEPS.size(); i++) {
                DemoStep step = STEPS.get(i);
                Path dir = demo.path(step.name());
                boolean done = Files.isRegularFile(dir.resolve("summary.json"));
                RunDirectory run = RunDirectory.openOrCreate(demo.path(), step.name(), dir, step.config(ctx));
                listener.stepStarted(i + 1, STEPS.size(), step, run.resumed() && !done);
                double seconds;
                if (!done) {
                    long start = System.nanoTime();
                    step.run(ctx, run, listener.progress());
                    seconds = (System.nanoTime() - start) / 1e9;
                } else {
                    seconds = 0;
                }
                if (!timings.isDone(step.name())) {
                    timings.append(RunDirectory.object().put("id", step.name()).put("seconds", seconds));
                }
                listener.stepFinished(i + 1, STEPS.size(), step, seconds, done);
                JsonNode stepSummary = read(run.path("summary.json"));
                ObjectNode headline = step.headline(stepSummary);
                summary.set(step.name(), headline);
                double recorded = timings.get(step.name()).get("seconds").asDouble();
                timing.put(step.name(), recorded);
                total += recorded;
                dirs.put(step.name(), demo.path().relativize(run.path()).toString());
                step.addTo(report, ctx, stepSummary, headline);
            }
            timing.put("total", total);
        }
        summary.set("seconds", timing);
        summary.set("run_dirs", dirs);
        demo.writeSummary(summary);
        report.footer("Written by vane demo. Folder: " + shown(demo.path()) + " (summary.json, and a run directory "
                + "per step with config.json, results.jsonl, summary.json and charts). Compute time: " + times(timing) + ".");
        Path html = report.write(demo.path("report.html"));
        return new Result(demo.path(), summary, html);
    }

    private String introduction(DemoContext ctx) {
        return "Nine measurements of " + ctx.modelName() + " (aligned chat model) and " + ctx.baseName()
                + " (its unaligned base), each a Vane command run on the data in " + shown(ctx.inputs().harmfulFile().getParent())
                + ": where the alignment lives, how shallow it is, how far a runtime steering vector restores it and at "
                + "what cost, how a steering vector moves a behaviour, where harmfulness can be read off the "
                + "activations, where an instructed lie is made, how a few attention heads steer a behaviour, and what "
                + "gating the runtime vector on a harmfulness probe buys.";
    }

    /** {@code path} relative to the working directory when it lies inside it (shorter, and the same on every machine). */
    private static String shown(Path path) {
        Path abs = path.toAbsolutePath().normalize(), here = Path.of("").toAbsolutePath();
        return abs.startsWith(here) ? here.relativize(abs).toString() : abs.toString();
    }

    /** "kl 26.6 s, prefill 27.2 s, ..., total 140.0 s". */
    private static String times(ObjectNode timing) {
        StringBuilder b = new StringBuilder();
        timing.fields().forEachRemaining(e -> b.append(b.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                .append(String.format(java.util.Locale.ROOT, "%.1f s", e.getValue().asDouble())));
        return b.toString();
    }

    /** A step summary (this demo's or, for step 9, an earlier step's), read back from its run directory. */
    static JsonNode read(Path file) {
        try {
            return RunDirectory.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": unreadable step summary: " + e.getMessage());
        }
    }
}
