package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.Request;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.ContrastiveSet;
import dev.vane.lab.steer.HeadDirectionBuilder;
import dev.vane.lab.steer.SteeringVector;
import dev.vane.lab.sweep.HeadSweep;
import dev.vane.lab.sweep.SweepMetric;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/** {@code vane sweep}: interventions on one unit at a time. */
@Command(name = "sweep",
        description = "Sweep interventions one unit at a time and record how the behaviour changes.",
        subcommands = {SweepCommand.Heads.class, HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  vane sweep heads --data models/organism-data/coordination_ab.jsonl --part 1/2 --eval-part 2/4 \\",
                "      --metric ab-logodds --scales 20 --top 4 --save vectors/hsi-top4.safetensors"},
        mixinStandardHelpOptions = true)
final class SweepCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vane sweep heads}: HSI's head selection. */
    @Command(name = "heads",
            description = {"Steer one attention head at a time along its direction (z[l,h] += scale * sigma * theta at the "
                    + "last position of every forward call) and record the change of the metric: a layer x head heatmap "
                    + "per scale (HSI's head selection). --top N --save FILE keeps the N heads that raise the metric most "
                    + "as a steering vector.",
                    "Directions: --vector FILE (a per-head vector, e.g. `vane steer build --method hsi --top-k-heads 1000`) "
                            + "or --data FILE of A/B questions, from which every head's mass-mean direction is built "
                            + "(read at the answer's last token).",
                    "Metrics: ab = mean p(matching answer) of the A/B questions (--questions, default --data); ab-logodds = "
                            + "their mean log-odds of the matching answer (does not saturate at 0 or 1); refusal = refusal "
                            + "rate of the answers to --prompts (greedy, keyword judge)."},
            footerHeading = "%nExamples:%n",
            footer = {
                    "  vane sweep heads --data models/organism-data/coordination_ab.jsonl --part 1/2 --eval-part 2/4 \\",
                    "      --metric ab-logodds --scales 20 --top 4 --save vectors/hsi-top4.safetensors",
                    "  vane sweep heads --vector vectors/hsi-top4.safetensors --metric refusal \\",
                    "      --prompts models/organism-data/harmful.jsonl --split test --prefill \"Sure, here is\" --scales 20",
                    "  vane sweep heads --data models/organism-data/coordination_ab.jsonl --part 1/2 --eval-part 2/4 \\",
                    "      --metric ab-logodds --scales 20 --spark local[2]"},
            mixinStandardHelpOptions = true)
    static final class Heads implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOption modelOption;

        @Mixin
        RunOptions runOptions;

        @Mixin
        SparkOptions spark;

        @Option(names = "--vector", paramLabel = "FILE", description = "A per-head steering vector (attn.hook_z) whose heads are swept.")
        Path vectorFile;

        @Option(names = "--data", paramLabel = "FILE", description = "A/B questions to build every head's direction from.")
        Path data;

        @Option(names = "--part", paramLabel = "K/N", description = "Build the directions from part K of N of --data (split by scenario).")
        String part;

        @Option(names = "--metric", required = true, paramLabel = "ab|ab-logodds|refusal", description = "What to measure.")
        String metricName;

        @Option(names = "--scales", required = true, split = ",", paramLabel = "S,...",
                description = "Scales (alpha) applied to each head's vector, e.g. -20,20.")
        List<Float> scales;

        @Option(names = "--questions", paramLabel = "FILE", description = "ab: A/B questions to evaluate (default: --data).")
        Path questions;

        @Option(names = "--eval-part", paramLabel = "K/N", description = "ab: evaluate on part K of N of the questions.")
        String evalPart;

        @Option(names = "--prompts", paramLabel = "FILE", description = "refusal: requests ({\"prompt\"}) to answer.")
        Path prompts;

        @Option(names = "--split", paramLabel = "NAME", description = "refusal: only requests of this split.")
        String split;

        @Option(names = "--prefill", paramLabel = "TEXT", defaultValue = "", description = "refusal: start of every answer.")
        String prefill;

        @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "32",
                description = "refusal: tokens generated per answer (default: ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--top", paramLabel = "N", description = "Keep the N heads that raise the metric most (with --save).")
        Integer top;

        @Option(names = "--select-scale", paramLabel = "S", description = "Rank heads at this scale (default: the largest).")
        Float selectScale;

        @Option(names = "--decrease", description = "Keep the heads that lower the metric most instead.")
        boolean decrease;

        @Option(names = "--save", paramLabel = "FILE", description = "Write the top heads as a steering vector.")
        Path save;

        @Override
        public Integer call() {
            if ((vectorFile == null) == (data == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give either --vector FILE or --data FILE");
            }
            if ((top == null) != (save == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--top N and --save FILE go together");
            }
            float[] swept = new float[scales.size()];
            for (int i = 0; i < swept.length; i++) swept[i] = scales.get(i);
            float rankAt = selectScale != null ? selectScale : (float) IntStream.range(0, swept.length)
                    .mapToDouble(i -> swept[i]).max().orElseThrow();
            PrintWriter out = spec.commandLine().getOut();
            try (Model model = Model.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
                SweepMetric metric = metric(model, tokenizer);
                SteeringVector vector;
                try (Progress progress = Progress.start("directions", -1, spec.commandLine().getErr())) {
                    vector = vectorFile != null ? SteeringVector.read(vectorFile) : everyHead(model, tokenizer, progress);
                }
                HeadSweep sweep = new HeadSweep(model.config(), vector, swept);
                RunDirectory run = runOptions.open("sweep-heads", config(model, vector, metric, swept));
                HeadSweep.Report report;
                try (WorkExecutor executor = spark.open("sweep heads");
                     Progress progress = Progress.start("sweep heads", sweep.steps(), spec.commandLine().getErr())) {
                    report = sweep.run(metric, run, spark.placement(executor, model.directory(), List.of()), progress::step);
                }
                ObjectNode summary = HeadSweep.summary(report);
                if (save != null) {
                    SteeringVector best = sweep.topHeads(report, top, rankAt, !decrease);
                    best.write(save);
                    summary.put("saved", save.toString()).put("saved_heads", best.headsSpec()).put("saved_scale", rankAt);
                    run.writeSummary(summary);
                }
                runOptions.finish(out, run, summary, () -> print(out, report, rankAt));
                if (save != null && !runOptions.json) out.println("Wrote the top " + top + " heads to " + save);
            }
            return 0;
        }

        private SweepMetric metric(Model model, Tokenizer tokenizer) {
            return switch (metricName) {
                case "ab", "ab-logodds" -> {
                    Path file = questions != null ? questions : data;
                    if (file == null) {
                        throw new CommandLine.ParameterException(spec.commandLine(), "--metric ab needs --questions FILE (or --data)");
                    }
                    List<AbQuestion> qs = AbQuestion.part(JsonlFile.read(file, AbQuestion::fromJson), evalPart, "--eval-part");
                    AbEvaluation eval = new AbEvaluation(model, tokenizer);
                    yield metricName.equals("ab") ? SweepMetric.ab(eval, qs) : SweepMetric.abLogOdds(eval, qs);
                }
                case "refusal" -> {
                    if (prompts == null) throw new CommandLine.ParameterException(spec.commandLine(), "--metric refusal needs --prompts FILE");
                    List<String> texts = JsonlFile.read(prompts, Request::fromJson).stream()
                            .filter(r -> split == null || split.equals(r.split())).map(Request::prompt).toList();
                    if (texts.isEmpty()) {
                        throw new CommandLine.ParameterException(spec.commandLine(), prompts + " has no request of split " + split);
                    }
                    // Fluent refusals only: the degenerate rule is calibrated on the unsteered model's answers to these requests.
                    RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, KeywordRefusalJudge.defaults(),
                            RefusalEvaluation.calibrate(model, tokenizer, texts.subList(0, Math.min(32, texts.size())), maxTokens));
                    yield SweepMetric.refusal(eval, texts, prefill, SamplingParams.greedy(maxTokens));
                }
                default -> throw new CommandLine.ParameterException(spec.commandLine(), "--metric must be ab, ab-logodds or refusal");
            };
        }

        /** Every head's mass-mean direction (sigma * theta) from the A/B questions of --data. */
        private SteeringVector everyHead(Model model, Tokenizer tokenizer, Progress progress) {
            List<AbQuestion> qs = AbQuestion.part(JsonlFile.read(data, AbQuestion::fromJson), part, "--part");
            ModelConfig c = model.config();
            Map<Integer, int[]> all = new TreeMap<>();
            for (int l = 0; l < c.layers(); l++) all.put(l, IntStream.range(0, c.heads()).toArray());
            String name = data.getFileName() + (part != null ? " part " + part : "");
            return new HeadDirectionBuilder(model).heads(all)
                    .build(ContrastiveSet.abAnswers(tokenizer, qs, ContrastiveSet.Read.LAST), "hsi", name, progress.counter())
                    .vector();
        }

        private static void print(PrintWriter out, HeadSweep.Report r, float rankAt) {
            out.printf(Locale.ROOT, "Head sweep of %s (%s): baseline %.4f%n", r.metric(), r.description(), r.baseline());
            for (int s = 0; s < r.scales().length; s++) {
                out.printf(Locale.ROOT, "Change at scale %s (rows: layers, columns: heads):%n", r.scales()[s]);
                for (int l = 0; l < r.change()[s].length; l++) {
                    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %3d", l));
                    for (double v : r.change()[s][l]) row.append(Double.isNaN(v) ? "      -" : String.format(Locale.ROOT, " %+6.3f", v));
                    out.println(row);
                }
            }
            StringBuilder best = new StringBuilder();
            for (HeadSweep.HeadChange c : r.ranked(rankAt, true).subList(0, Math.min(5, r.all().size() / r.scales().length))) {
                best.append(best.isEmpty() ? "" : ", ").append(c.head().layer()).append(':').append(c.head().head())
                        .append(String.format(Locale.ROOT, " %+.3f", c.change()));
            }
            out.println("Largest increases at scale " + rankAt + ": " + best);
        }

        private ObjectNode config(Model model, SteeringVector vector, SweepMetric metric, float[] swept) {
            ObjectNode c = RunOptions.config("sweep-heads", model);
            if (vectorFile != null) c.put("vector", RunOptions.absolute(vectorFile));
            if (data != null) c.put("data", RunOptions.absolute(data)).put("part", part);
            c.put("directions", vector.metadata().data());
            c.put("metric", metric.name());
            c.put("metric_definition", metric.description());
            if (questions != null) c.put("questions", RunOptions.absolute(questions));
            c.put("eval_part", evalPart);
            if (prompts != null) c.put("prompts", RunOptions.absolute(prompts));
            c.put("split", split);
            c.put("prefill", prefill);
            c.put("max_tokens", maxTokens);
            var s = c.putArray("scales");
            for (float x : swept) s.add(x);
            return c;
        }
    }
}
