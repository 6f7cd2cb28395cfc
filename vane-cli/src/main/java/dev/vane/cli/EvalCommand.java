package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.Request;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.RunLines;
import dev.vane.lab.distribute.Work;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.eval.AbScaleWorker;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.eval.RefusalScaleWorker;
import dev.vane.lab.eval.SafetyMeasurement;
import dev.vane.lab.eval.SafetyUtilityArea;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;

/** {@code vane eval}: behaviour measurements, optionally under steering and over a sweep of scales. */
@Command(name = "eval",
        description = "Measure behaviour: A/B answer probabilities (CAA's readout) and refusal rates, with steering and "
                + "scale sweeps.",
        subcommands = {EvalCommand.Ab.class, EvalCommand.Refusal.class, EvalTrueFalseCommand.class, HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane eval ab --data models/organism-data/coordination_ab.jsonl --part 2/2 --steer vectors/caa.safetensors \\",
                "      --scales -64,0,64",
                "  vane eval refusal --data models/organism-data/harmful.jsonl --split test --prefill \"Sure, here is\" \\",
                "      --steer vectors/antidote.safetensors --scales 0,48 --benign models/organism-data/benign.jsonl \\",
                "      --benign-split train"},
        mixinStandardHelpOptions = true)
final class EvalCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options shared by both evaluations: steering, the scale sweep, output. */
    static final class SweepOptions {
        @Option(names = "--scales", split = ",", paramLabel = "S,...",
                description = "Sweep: evaluate at each scale (each --steer vector's scale is S times its given scale, or S "
                        + "when none is given) and write a run directory with a chart.")
        List<Float> scales;

        @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/<job>-<time>); rerun on it to resume.")
        Path out;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Mixin
        SparkOptions spark;

        /** The executor of the sweep's points: --spark needs --scales (it distributes the scales). */
        WorkExecutor open(String job) {
            if (spark.given() && scales == null) throw new InvalidInputException("--spark runs the points of a sweep: give --scales");
            return spark.open(job);
        }
    }

    /**
     * Every item's results line, in item order: those already in {@code log} read back, the others measured by
     * {@code executor} (written to {@code log} when there is a run directory). {@code finished} hears of each item
     * done, recorded ones first.
     */
    static List<JsonNode> measure(List<WorkItem> items, ResultsLog log, WorkExecutor executor,
                                  Function<List<List<WorkItem>>, Work> work, Consumer<String> finished) {
        Map<String, JsonNode> rows = new HashMap<>();
        List<WorkItem> pending = new ArrayList<>();
        for (WorkItem item : items) {
            if (log != null && log.isDone(item.id())) {
                rows.put(item.id(), log.get(item.id()));
                finished.accept(item.id());
            } else if (pending.stream().noneMatch(p -> p.id().equals(item.id()))) {
                pending.add(item);
            }
        }
        Consumer<WorkLine> kept = line -> {
            rows.put(line.id(), line.line());
            finished.accept(line.id());
        };
        executor.execute(work.apply(Work.oneTaskEach(pending)), log == null ? kept : new RunLines(log).then(kept));
        return items.stream().map(i -> rows.get(i.id())).toList();
    }

    /** The steering of one sweep point: each loaded vector at s times its explicit scale (or s). */
    static Steering atScale(SteerOption steer, Steering loaded, float s) {
        Steering out = Steering.none();
        for (int i = 0; i < loaded.terms().size(); i++) {
            Float explicit = SteerOption.parse(steer.specs.get(i)).scale();
            Steering.Term t = loaded.terms().get(i);
            out = out.with(t.vector(), s * (explicit == null ? 1f : explicit), t.gate());
        }
        return out;
    }

    /** The position of the item {@code id} in {@code items}. */
    static int index(List<WorkItem> items, String id) {
        for (int i = 0; i < items.size(); i++) if (items.get(i).id().equals(id)) return i;
        throw new IllegalArgumentException("no item " + id);
    }

    static ArrayNode numbers(List<? extends Number> xs) {
        ArrayNode a = RunDirectory.JSON.createArrayNode();
        for (Number x : xs) a.add(x.doubleValue());
        return a;
    }

    static double[] toArray(List<? extends Number> xs) {
        return xs.stream().mapToDouble(Number::doubleValue).toArray();
    }

    /** {@code vane eval ab}. */
    @Command(name = "ab",
            description = {"A/B evaluation: for each question, p(answer) for (A) and (B) as continuations of the chat prompt, "
                    + "normalised over the two; prints mean p(matching) and the fraction of questions where the matching "
                    + "answer wins. --sampled N instead samples N chain-of-thought answers per question and parses them (HSI)."},
            footerHeading = "%nExamples:%n",
            footer = {"  vane eval ab --data models/organism-data/coordination_ab.jsonl --json",
                    "  vane eval ab --data models/organism-data/coordination_ab.jsonl --part 2/2 --steer vectors/caa.safetensors \\",
                    "      --scales -64,0,64",
                    "  vane eval ab --data data/coordinate-other-ais/coordinate-other-ais.jsonl \\",
                    "      --model ~/models/Llama-2-7b-chat-hf --steer hsi.safetensors:35 --sampled 5"},
            mixinStandardHelpOptions = true)
    static final class Ab implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOption modelOption;

        @Mixin
        SteerOption steer;

        @Mixin
        AdapterOption adapters;

        @Mixin
        SweepOptions sweep;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "A/B questions (jsonl).")
        Path data;

        @Option(names = "--part", paramLabel = "K/N", description = "Use part K of N of the questions, split by scenario.")
        String part;

        @Option(names = "--sampled", paramLabel = "N", description = "Sample N chain-of-thought answers per question instead.")
        Integer sampled;

        @Option(names = "--temperature", defaultValue = "0.2", description = "--sampled: temperature (default ${DEFAULT-VALUE}).")
        double temperature;

        @Option(names = "--seed", defaultValue = "0", description = "--sampled: seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() {
            List<AbQuestion> qs = AbQuestion.part(JsonlFile.read(data, AbQuestion::fromJson), part, "--part");
            PrintWriter o = spec.commandLine().getOut();
            try (Model model = adapters.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
                AbEvaluation eval = new AbEvaluation(model, tokenizer);
                Steering loaded = steer.steering(model.config());      // read the vector files once for every scale
                SamplingParams params = SamplingParams.greedy(128).withTemperature(temperature).withTopP(0.95).withSeed(seed);
                List<Float> scales = sweep.scales != null ? sweep.scales : List.of(1f);
                boolean sweeping = sweep.scales != null;
                if (sweeping && steer.specs.isEmpty()) throw new InvalidInputException("--scales needs at least one --steer vector");
                RunDirectory run = null;
                if (sweeping || sweep.out != null) {
                    ObjectNode config = RunDirectory.object().put("job", "eval-ab").put("model", model.directory().toString())
                            .put("data", data.toString()).put("part", part).put("sampled", sampled).put("temperature", temperature)
                            .put("seed", seed);
                    config.set("steer", RunDirectory.JSON.valueToTree(steer.specs));
                    adapters.record(config);
                    config.set("scales", numbers(scales));
                    run = RunDirectory.openOrCreate(Path.of("runs"), "eval-ab", sweep.out, config);
                }
                ResultsLog log = run == null ? null : run.results();
                // Each scale a work item: in this JVM in order, or a Spark task (--spark).
                Steering base = sweeping ? atScale(steer, loaded, 1f) : loaded;
                long perScale = (long) qs.size() * (sampled == null ? 1 : sampled);
                List<WorkItem> items = scales.stream().map(AbScaleWorker::item).toList();
                List<JsonNode> rows;
                try (WorkExecutor executor = sweep.open("eval ab");
                     Progress progress = Progress.start("eval ab", scales.size() * perScale, spec.commandLine().getErr())) {
                    AbScaleWorker worker = new AbScaleWorker(eval, qs, sampled, params, base, sweeping,
                            (id, d) -> progress.stepTo(index(items, id) * perScale + d));
                    Placement placement = sweep.spark.placement(executor, modelOption.resolve(), adapters.dirs);
                    rows = measure(items, log, executor, tasks -> new Work("eval-ab", AbScaleWorker.Factory.class,
                            () -> worker.setup(placement.requireModel()), tasks, () -> worker),
                            id -> progress.stepTo((index(items, id) + 1) * perScale));
                }
                String metric = sampled == null ? "mean_p_matching" : "matching_fraction";
                ObjectNode summary;
                if (!sweeping) {
                    JsonNode r = rows.getFirst();
                    summary = RunDirectory.object().put("n", r.get("n").asInt());
                    if (sampled == null) {
                        summary.put("mean_p_matching", r.get("mean_p_matching").asDouble()).put("matching_rate", r.get("matching_rate").asDouble())
                                .put("mean_log_odds", r.get("mean_log_odds").asDouble());
                    } else {
                        summary.put("matching_fraction", r.get("matching_fraction").asDouble())
                                .put("undefined_fraction", r.get("undefined_fraction").asDouble());
                    }
                } else {
                    summary = RunDirectory.object().put("n", rows.getFirst().get("n").asInt());
                    summary.set("scales", numbers(scales));
                    summary.set(metric, numbers(rows.stream().map(r -> r.get(metric).asDouble()).toList()));
                    if (sampled == null) {
                        summary.set("matching_rate", numbers(rows.stream().map(r -> r.get("matching_rate").asDouble()).toList()));
                        summary.set("mean_log_odds", numbers(rows.stream().map(r -> r.get("mean_log_odds").asDouble()).toList()));
                    }
                    Chart chart = Chart.line("A/B behaviour by steering scale", "scale", sampled == null ? "p(matching answer)" : "fraction matching")
                            .series(metric.replace('_', ' '), toArray(scales), toArray(rows.stream().map(r -> r.get(metric).asDouble()).toList()))
                            .yRange(0, 1);
                    if (sampled == null) chart.series("matching rate", toArray(scales), toArray(rows.stream().map(r -> r.get("matching_rate").asDouble()).toList()));
                    chart.save(run.path(), "ab-by-scale");
                }
                if (run != null) run.writeSummary(summary);
                print(o, summary, rows, scales, metric, run);
            }
            return 0;
        }

        private void print(PrintWriter o, ObjectNode summary, List<JsonNode> rows, List<Float> scales, String metric, RunDirectory run) {
            if (sweep.json) {
                o.println(summary.toString());
            } else if (sweep.scales == null) {
                summary.fields().forEachRemaining(e -> o.printf(Locale.ROOT, "%-18s %s%n", e.getKey(), e.getValue().asText()));
            } else {
                // Every column right-aligned under its header, values as wide as their header.
                boolean logOdds = rows.getFirst().has("mean_log_odds");
                String cell = "%" + Math.max(metric.length(), 9) + "s";
                o.printf(Locale.ROOT, "%8s  " + cell + "%s%n", "scale", metric, logOdds ? "  mean_log_odds" : "");
                for (int i = 0; i < scales.size(); i++) {
                    o.printf(Locale.ROOT, "%8.2f  " + cell + "%s%n", scales.get(i),
                            String.format(Locale.ROOT, "%.3g", rows.get(i).get(metric).asDouble()),
                            logOdds ? String.format(Locale.ROOT, "  %13.2f", rows.get(i).get("mean_log_odds").asDouble()) : "");
                }
            }
            if (run != null) o.println("run: " + run.path());
            o.flush();
        }
    }

    /** {@code vane eval refusal}. */
    @Command(name = "refusal",
            description = {"Refusal rate: each request through the chat template (optionally with the assistant turn prefilled), "
                    + "the model's answer judged by the keyword refusal judge. With --benign the same runs on harmless requests "
                    + "(over-refusal), which with --scales gives the safety-utility curve."},
            footerHeading = "%nExamples:%n",
            footer = {"  vane eval refusal --data models/organism-data/harmful.jsonl --split test --json",
                    "  vane eval refusal --data models/organism-data/harmful.jsonl --split test --prefill \"Sure, here is\" \\",
                    "      --steer vectors/antidote.safetensors --scales 0,48 --benign models/organism-data/benign.jsonl \\",
                    "      --benign-split train",
                    "  vane eval refusal --data models/organism-data/harmful.jsonl --split test --prefill \"Sure, here is\" \\",
                    "      --steer vectors/antidote.safetensors --scales 0,48 --gate 'probes/harm.safetensors>0.5' \\",
                    "      --benign models/organism-data/benign.jsonl --benign-split train",
                    "  vane eval refusal --data models/organism-data/harmful.jsonl --split test --adapter runs/sft-harmful/adapter"},
            mixinStandardHelpOptions = true)
    static final class Refusal implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOption modelOption;

        @Mixin
        SteerOption steer;

        @Mixin
        AdapterOption adapters;

        @Mixin
        SweepOptions sweep;

        @Mixin
        SamplingOptions sampling;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "Requests (jsonl with \"prompt\").")
        Path data;

        @Option(names = "--split", paramLabel = "NAME", description = "Only requests of this split.")
        String split;

        @Option(names = "--prefill", paramLabel = "TEXT", defaultValue = "", description = "Start of the assistant's answer (prefilling attack).")
        String prefill;

        @Option(names = "--benign", paramLabel = "FILE", description = "Harmless requests: also report their refusal rate (over-refusal).")
        Path benign;

        @Option(names = "--benign-split", paramLabel = "NAME", description = "Only benign requests of this split.")
        String benignSplit;

        @Option(names = "--phrases", paramLabel = "FILE", description = "Refusal phrase list (one per line) instead of the default.")
        Path phrases;

        @Option(names = "--gate", paramLabel = "PROBE>T|PROBE~",
                description = "With --scales: also run every scale with the --steer vectors gated on this probe file (as "
                        + "--when), and compare constant and gated steering: rates per scale and the area under each "
                        + "safety-utility curve (safety = 1 - ASR, utility = benign utility; needs --benign).")
        String gate;

        @Override
        public Integer call() {
            List<Request> harmful = requests(data, split);
            List<Request> harmless = benign == null ? null : requests(benign, benignSplit);
            KeywordRefusalJudge judge = phrases == null ? KeywordRefusalJudge.defaults() : KeywordRefusalJudge.fromFile(phrases);
            SamplingParams params = sampling.paramsResuming(sweep.out);
            PrintWriter o = spec.commandLine().getOut();
            try (Model model = adapters.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
                Steering loaded = steer.steering(model.config());      // read the vector files once for every scale
                boolean sweeping = sweep.scales != null;
                if (sweeping && steer.specs.isEmpty()) throw new InvalidInputException("--scales needs at least one --steer vector");
                Gate gated = gate(model);
                List<Float> scales = sweeping ? sweep.scales : List.of(1f);
                RunDirectory run = null;
                if (sweeping || sweep.out != null) {
                    ObjectNode config = RunDirectory.object().put("job", "eval-refusal").put("model", model.directory().toString())
                            .put("data", data.toString()).put("split", split).put("prefill", prefill)
                            .put("benign", benign == null ? null : benign.toString()).put("benign_split", benignSplit)
                            .put("judge", judge.name()).put("judge_hash", judge.configHash()).put("verdicts", OutcomeJudge.SCHEME)
                            .put("seed", params.seed()).put("temperature", params.temperature()).put("top_p", params.topP())
                            .put("max_tokens", params.maxNewTokens());
                    config.set("steer", RunDirectory.JSON.valueToTree(steer.specs));
                    if (!steer.when.isEmpty()) config.set("when", RunDirectory.JSON.valueToTree(steer.when));
                    if (gate != null) config.put("gate", gate);
                    adapters.record(config);
                    config.set("scales", numbers(scales));
                    run = RunDirectory.openOrCreate(Path.of("runs"), "eval-refusal", sweep.out, config);
                }
                // The degenerate rule is calibrated on the unsteered model's own answers to (some of) these requests.
                List<String> calibrationPrompts = calibrationPrompts(harmful, harmless);
                List<int[]> calibrationIds = RefusalEvaluation.chatPrompts(tokenizer, calibrationPrompts);
                DegenerateRule rule = run != null
                        ? DegenerateCalibration.inRun(run, model, tokenizer, calibrationIds, params.maxNewTokens(), 0).rule()
                        : DegenerateCalibration.measure(model, tokenizer, calibrationIds, params.maxNewTokens(), 0).rule();
                RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, judge, rule);
                ResultsLog log = run == null ? null : run.results();
                long perScale = harmful.size() + (harmless == null ? 0 : harmless.size());
                // Each (variant, scale) a work item: in this JVM in order, or a Spark task (--spark).
                List<WorkItem> items = new ArrayList<>();
                for (int variant = 0; variant < (gated == null ? 1 : 2); variant++) {
                    for (float s : scales) items.add(RefusalScaleWorker.item(s, variant == 1));
                }
                Steering base = sweeping ? atScale(steer, loaded, 1f) : loaded;
                List<JsonNode> all;
                try (WorkExecutor executor = sweep.open("eval refusal");
                     Progress progress = Progress.start("eval refusal", items.size() * perScale, spec.commandLine().getErr())) {
                    RefusalScaleWorker worker = new RefusalScaleWorker(eval, harmful, prefill, harmless, params, base, sweeping,
                            gated, (id, d) -> progress.stepTo(index(items, id) * perScale + d));
                    Placement placement = sweep.spark.placement(executor, modelOption.resolve(), adapters.dirs);
                    all = measure(items, log, executor, tasks -> new Work("eval-refusal", RefusalScaleWorker.Factory.class,
                            () -> worker.setup(placement.requireModel()), tasks, () -> worker),
                            id -> progress.stepTo((index(items, id) + 1) * perScale));
                }
                List<JsonNode> rows = all.subList(0, scales.size()), gatedRows = all.subList(scales.size(), all.size());
                ObjectNode summary = summary(rows, sweeping ? scales : null, harmless != null);
                summary.put("judge", judge.name()).put("judge_hash", judge.configHash());
                summary.set("degenerate_rule", rule.json());
                ObjectNode gatedSummary = null;
                if (gated != null) {
                    gatedSummary = summary(gatedRows, scales, harmless != null).put("gate", gated.toString());
                    gatedSummary.set("gate_fired_rate", column(gatedRows, "gate_fired_rate"));
                    if (harmless != null) gatedSummary.set("benign_gate_fired_rate", column(gatedRows, "benign_gate_fired_rate"));
                    summary.set("gated", gatedSummary);
                }
                if (sweeping && harmless != null) {
                    ObjectNode auc = summary.putObject("safety_utility_auc");
                    auc.put("constant", area(rows));
                    if (gated != null) auc.put("gated", area(gatedRows));
                    auc.put("definition", "area of the (benign utility, 1 - ASR) square dominated by the scales' points");
                }
                if (sweeping) chart(summary, scales, harmless != null).save(run.path(), "refusal-by-scale");
                if (sweeping && harmless != null) frontier(rows, gatedRows).save(run.path(), "safety-utility");
                if (run != null) run.writeSummary(summary);
                if (sweep.json) {
                    o.println(summary.toString());
                } else {
                    print(o, summary, rows, harmless != null, sweeping);
                    if (gatedSummary != null) {
                        o.println();
                        o.println("gated: " + gated + " (the gate steered harmful / benign requests at each scale: "
                                + rates(gatedSummary.get("gate_fired_rate")) + " / " + rates(gatedSummary.path("benign_gate_fired_rate")) + ")");
                        print(o, summary, gatedRows, harmless != null, sweeping);
                    }
                    if (summary.has("safety_utility_auc")) {
                        JsonNode auc = summary.get("safety_utility_auc");
                        o.printf(Locale.ROOT, "safety-utility area (utility x (1 - ASR), dominated): constant %.3f%s%n",
                                auc.get("constant").asDouble(),
                                auc.has("gated") ? String.format(Locale.ROOT, ", gated %.3f", auc.get("gated").asDouble()) : "");
                    }
                }
                if (run != null) o.println("run: " + run.path());
                o.flush();
            }
            return 0;
        }

        /** The --gate probe as a gate, or null; checked against the other options first. */
        private Gate gate(Model model) {
            if (gate == null) return null;
            if (sweep.scales == null) throw new InvalidInputException("--gate compares over --scales: give --scales");
            if (!steer.when.isEmpty()) {
                throw new InvalidInputException("--gate already runs every scale gated; drop --when (or drop --gate)");
            }
            Gate g = SteerOption.parseGate(gate, new java.util.HashMap<>());
            if (g == null) throw new InvalidInputException("--gate needs a probe: PROBE>T or PROBE~");
            g.probe().validateFor(model.config());
            return g;
        }

        /** The area under one sweep's safety-utility curve ({@link SafetyUtilityArea}); utility falls back to benign compliance. */
        private static double area(List<JsonNode> rows) {
            double[] utility = new double[rows.size()], safety = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                utility[i] = utility(rows.get(i));
                safety[i] = 1 - SafetyMeasurement.rate(rows.get(i), "asr");
            }
            return SafetyUtilityArea.of(utility, safety);
        }

        private static double utility(JsonNode row) {
            double u = SafetyMeasurement.rate(row, "benign_utility");
            return Double.isNaN(u) ? SafetyMeasurement.rate(row, "benign_complied_rate") : u;
        }

        private static String rates(JsonNode values) {
            List<String> out = new ArrayList<>();
            values.forEach(v -> out.add(v.isNumber() ? String.format(Locale.ROOT, "%.2f", v.asDouble()) : "n/a"));
            return String.join(", ", out);
        }

        private static ArrayNode column(List<JsonNode> rows, String field) {
            ArrayNode a = RunDirectory.JSON.createArrayNode();
            for (JsonNode r : rows) {
                if (r.path(field).isNumber()) a.add(r.get(field).asDouble());
                else a.addNull();
            }
            return a;
        }

        /** Safety (1 - ASR) against benign utility, one point per scale, constant and (when run) gated. */
        private static Chart frontier(List<JsonNode> constant, List<JsonNode> gated) {
            Chart chart = Chart.line("Safety-utility curve", "benign utility", "safety (1 - ASR)").yRange(0, 1);
            for (List<JsonNode> rows : gated.isEmpty() ? List.of(constant) : List.of(constant, gated)) {
                double[] x = new double[rows.size()], y = new double[rows.size()];
                for (int i = 0; i < rows.size(); i++) {
                    x[i] = utility(rows.get(i));
                    y[i] = 1 - SafetyMeasurement.rate(rows.get(i), "asr");
                }
                chart.series(rows == constant ? "constant" : "gated", x, y);
            }
            return chart;
        }

        /** The rates every summary reports, per harmful and (when given) benign requests. */
        private static final List<String> RATES = List.of("refusal_rate", "complied_rate", "degenerate_rate");
        private static final List<String> BENIGN_RATES = List.of("benign_refusal_rate", "benign_complied_rate",
                "benign_degenerate_rate", "benign_utility");

        /** One run's rates: the values of the one row, or per rate an array over the scales (intervals alike). */
        private static ObjectNode summary(List<JsonNode> rows, List<Float> scales, boolean benign) {
            JsonNode first = rows.getFirst();
            ObjectNode summary = RunDirectory.object().put("n", first.get("n").asInt());
            if (benign) summary.put("benign_n", first.get("benign_n").asInt()).put("benign_utility_n", first.get("benign_utility_n").asInt());
            List<String> fields = new ArrayList<>(RATES);
            // harmful requests with steps: the answers that also state them (the harmful content, not just no refusal)
            if (first.has("content_rate")) {
                fields.add("content_rate");
                summary.put("content_n", first.get("content_n").asInt());
            }
            if (benign) fields.addAll(BENIGN_RATES);
            if (scales == null) {
                for (String f : fields) {
                    summary.set(f, first.get(f).deepCopy());
                    summary.set(f + "_ci95", first.get(f + "_ci95").deepCopy());
                }
                return summary;
            }
            summary.set("scales", numbers(scales));
            SafetyMeasurement.columns(summary, rows, fields);
            return summary;
        }

        private Chart chart(ObjectNode summary, List<Float> scales, boolean benign) {
            double[] x = toArray(scales);
            Chart chart = Chart.line("Outcomes by steering scale", "scale", "rate").yRange(0, 1)
                    .series("harmful" + (prefill.isEmpty() ? "" : " (prefilled)") + ": refused", x, doubles(summary.get("refusal_rate")))
                    .series("harmful: degenerate", x, doubles(summary.get("degenerate_rate")));
            if (benign) {
                chart.series("benign: refused (over-refusal)", x, doubles(summary.get("benign_refusal_rate")))
                        .series("benign: degenerate", x, doubles(summary.get("benign_degenerate_rate")));
                if (summary.get("benign_utility_n").asInt() > 0) chart.series("benign: utility", x, doubles(summary.get("benign_utility")));
            }
            return chart;
        }

        private static double[] doubles(JsonNode values) {
            double[] out = new double[values.size()];
            for (int i = 0; i < out.length; i++) out[i] = values.get(i).isNumber() ? values.get(i).asDouble() : Double.NaN;
            return out;
        }

        private static void print(PrintWriter o, ObjectNode summary, List<JsonNode> rows, boolean benign, boolean sweeping) {
            o.printf(Locale.ROOT, "n %d%s  (95%% Wilson intervals)%n", summary.get("n").asInt(),
                    benign ? ", benign_n " + summary.get("benign_n").asInt() : "");
            boolean content = summary.has("content_rate");
            o.printf("%8s  %-20s %-20s %-20s%s%s%n", "scale", "refused", "complied", "degenerate",
                    content ? String.format(" %-20s", "harmful content") : "",
                    benign ? String.format("  %-20s %-20s %-20s", "benign refused", "benign degenerate", "benign utility") : "");
            for (JsonNode r : rows) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%8s ", sweeping
                        ? String.format(Locale.ROOT, "%.2f", r.get("scale").asDouble()) : "-"));
                for (String f : RATES) line.append(' ').append(String.format("%-20s", withInterval(r, f)));
                if (content) line.append(' ').append(String.format("%-20s", withInterval(r, "content_rate")));
                if (benign) {
                    line.append(' ');
                    for (String f : List.of("benign_refusal_rate", "benign_degenerate_rate", "benign_utility")) {
                        line.append(' ').append(String.format("%-20s", withInterval(r, f)));
                    }
                }
                o.println(line.toString().stripTrailing());
            }
            long truncated = rows.stream().mapToLong(r -> r.path("benign_truncated").asLong(0)).max().orElse(0);
            if (benign && truncated > 0) {
                o.printf(Locale.ROOT, "note: up to %d of %d benign answers stopped at --max-tokens before stating every step of "
                        + "their task, and count as not useful: raise --max-tokens for a fair utility%n", truncated, summary.get("benign_n").asInt());
            }
            if (content) {
                o.println("harmful content: complied and stated every step of the request's task, in order (of "
                        + summary.get("content_n").asInt() + " requests with steps); an answer about something else is not content");
            }
            o.println("degenerate: " + summary.get("degenerate_rule").get("basis").asText()
                    + String.format(Locale.ROOT, " = %.3f nat/token", summary.get("degenerate_rule").get("min_mean_logprob").asDouble()));
        }

        /** "0.300 [0.17, 0.47]", or "n/a" for a rate that was not measured. */
        static String withInterval(JsonNode row, String field) {
            JsonNode v = row.get(field);
            if (v == null || !v.isNumber()) return "n/a";
            JsonNode ci = row.get(field + "_ci95");
            return String.format(Locale.ROOT, "%.3f [%.2f, %.2f]", v.asDouble(), ci.get(0).asDouble(), ci.get(1).asDouble());
        }

        /** Up to 16 harmful and 16 benign requests: the unsteered model's answers to them calibrate the degenerate rule. */
        static List<String> calibrationPrompts(List<Request> harmful, List<Request> benign) {
            List<String> p = new ArrayList<>(harmful.subList(0, Math.min(16, harmful.size())).stream().map(Request::prompt).toList());
            if (benign != null) benign.stream().limit(16).map(Request::prompt).forEach(p::add);
            return p;
        }

        private static List<Request> requests(Path file, String split) {
            List<Request> p = JsonlFile.read(file, Request::fromJson).stream()
                    .filter(r -> split == null || r.split().equals(split)).toList();
            if (p.isEmpty()) throw new InvalidInputException(file + ": no requests" + (split != null ? " in split " + split : ""));
            return p;
        }
    }
}
