package dev.vane.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.Generator;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.attack.Attack;
import dev.vane.lab.attack.AttackRun;
import dev.vane.lab.data.Datasets;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.WorkExecutor;
import dev.vane.lab.data.FieldMapping;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.data.Request;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Options and the run shared by the {@code vane attack} subcommands: the model, steering, the dataset, the judge,
 * the run directory, batching and output. Each subcommand builds its {@link Attack}; {@link #execute} does the rest.
 */
final class AttackOptions {
    /** One-line JSON for --json. */
    static final ObjectMapper COMPACT = new ObjectMapper();

    @Mixin
    ModelOption modelOption;

    @Mixin
    SteerOption steer;

    @Mixin
    AdapterOption adapters;

    @Mixin
    SparkOptions spark;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Harmful prompts (.csv with a header, or .jsonl): AdvBench, JailbreakBench, HEx-PHI-style "
                    + "conversations, the organism's files, or any file with --field.")
    Path data;

    @Option(names = "--field", paramLabel = "ROLE=NAME,...",
            description = "Which fields hold the prompt and response, e.g. prompt=goal,response=target "
                    + "(default: detected: prompt/goal/instruction/query and response/target).")
    String fields;

    @Option(names = "--split", paramLabel = "NAME",
            description = "Attack only rows whose split field is NAME (the organism's train = seen tasks, test = unseen).")
    String split;

    @Option(names = "--limit", paramLabel = "N", description = "Attack only the first N prompts (after --split).")
    Integer limit;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message before each prompt.")
    String system;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16",
            description = "Trials generated together (default: ${DEFAULT-VALUE}); does not change the results.")
    int batchSize;

    @Option(names = "--refusal-phrases", paramLabel = "FILE",
            description = "Refusal phrase list of the keyword judge, one per line (default: Vane's list).")
    Path refusalPhrases;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Run directory; an interrupted run resumes when rerun with the same options and --out "
                    + "(default: runs/<attack>-<timestamp>).")
    Path out;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    /** The prompts of --data, after --split and --limit. */
    List<String> prompts() {
        return limited(Datasets.requests(data, fieldMapping()).stream().filter(this::inSplit).map(Request::prompt).toList());
    }

    /** The (prompt, response) pairs of --data, after --split and --limit. */
    List<PromptResponse> promptResponses() {
        List<PromptResponse> pairs = Datasets.promptResponses(data, fieldMapping());
        if (split != null) {
            // The same rows read as requests, in the same order, carry the split.
            List<Request> requests = Datasets.requests(data, fieldMapping());
            pairs = IntStream.range(0, pairs.size()).filter(i -> inSplit(requests.get(i))).mapToObj(pairs::get).toList();
        }
        return limited(pairs);
    }

    /** Everything needed to rerun any attack: the model, the data and judge by content, the steering, and {@code settings}. */
    ObjectNode baseConfig(String job, Path modelDir, Judge judge, JsonNode steering, ObjectNode settings) {
        ObjectNode c = RunDirectory.object();
        c.put("job", job);
        c.put("model", modelDir.toAbsolutePath().normalize().toString());
        ObjectNode d = c.putObject("data");
        d.put("file", data.toAbsolutePath().normalize().toString());
        d.put("sha256", RunDirectory.sha256(data));
        d.put("fields", fields);
        d.put("split", split);
        if (limit == null) d.putNull("limit");
        else d.put("limit", limit);
        c.putObject("judge").put("name", judge.name()).put("hash", judge.configHash()).put("verdicts", OutcomeJudge.SCHEME);
        c.set("steering", steering);
        adapters.record(c);
        c.setAll(settings);
        return c;
    }

    /** The judge of --refusal-phrases (default: Vane's list). */
    Judge judge() {
        return refusalPhrases == null ? KeywordRefusalJudge.defaults() : KeywordRefusalJudge.fromFile(refusalPhrases);
    }

    private FieldMapping fieldMapping() {
        return fields == null ? null : FieldMapping.parse(fields);
    }

    private boolean inSplit(Request r) {
        return split == null || split.equals(r.split());
    }

    private <T> List<T> limited(List<T> rows) {
        if (rows.isEmpty()) throw new InvalidInputException(data + ": no rows with split \"" + split + "\"");
        if (limit == null) return rows;
        if (limit < 1) throw new InvalidInputException("--limit must be >= 1, got " + limit);
        return rows.subList(0, Math.min(limit, rows.size()));
    }

    /**
     * Loads the model, opens (or resumes) the run directory, runs the attack with progress on stderr and returns the
     * summary, which also carries the run directory under {@code "run"}.
     */
    ObjectNode execute(Attack attack, PrintWriter err) {
        if (batchSize < 1) throw new InvalidInputException("--batch-size must be >= 1, got " + batchSize);
        Path modelDir = modelOption.resolve();
        Judge judge = judge();
        try (Model model = adapters.load(modelDir); Tokenizer tokenizer = Tokenizer.load(model.directory());
             WorkExecutor executor = spark.open("attack " + attack.job().replace("attack-", ""))) {
            Steering steering = steer.steering(model.config());
            RunDirectory run = RunDirectory.openOrCreate(Path.of("runs"), attack.job(), out,
                    config(attack, modelDir, judge, steer.configJson(steering)));
            ObjectNode summary;
            try (Progress progress = Progress.start(attack.job(), -1, err)) {
                summary = AttackRun.run(attack, new Generator(model, tokenizer), tokenizer, judge, steering, batchSize,
                        run, new AttackRun.Listener() {
                            @Override
                            public void started(int pending, int total) {
                                if (pending < total) {
                                    err.printf("resuming %s: %d of %d trials already done%n", run.path(), total - pending, total);
                                    err.flush();
                                }
                                progress.total(pending);
                            }

                            @Override
                            public void done(String id) {
                                progress.step(id);
                            }
                        }, placement(executor, modelDir));
            }
            summary.put("run", run.path().toString());
            return summary;
        }
    }

    /** Where the work runs: this JVM, or the --spark cluster, whose executors load {@code modelDir} with the adapters. */
    Placement placement(WorkExecutor executor, Path modelDir) {
        return spark.placement(executor, modelDir, adapters.dirs);
    }

    /** Everything needed to rerun: the attack's settings, the model, the data and judge by content, the steering. */
    private ObjectNode config(Attack attack, Path modelDir, Judge judge, JsonNode steering) {
        return baseConfig(attack.job(), modelDir, judge, steering, attack.config());
    }

    /** Prints {@code summary} as one line of JSON with --json, else as {@code text} writes it. */
    void report(PrintWriter out, ObjectNode summary, Consumer<PrintWriter> text) throws JsonProcessingException {
        if (json) out.println(COMPACT.writeValueAsString(summary));
        else text.accept(out);
        out.flush();
    }

    /**
     * One row per group, read from {@code summary}: label, ASR (fluent answers that do not refuse) with its 95%
     * interval and counts, then the refused and degenerate rates.
     */
    static void printTable(PrintWriter out, JsonNode summary, String by, String heading) {
        out.printf("  %-24s %7s   %-17s %-10s %8s %11s%n", heading, "ASR", "95% CI", "complied", "refused", "degenerate");
        summary.path("asr_by_" + by).fieldNames().forEachRemaining(group -> {
            JsonNode ci = summary.path("ci95_by_" + by).path(group);
            JsonNode counts = summary.path("counts_by_" + by).path(group);
            out.printf("  %-24s %7s   %-17s %-10s %8s %11s%n", group.isEmpty() ? "(none)" : group,
                    percent(summary.path("asr_by_" + by).path(group).asDouble()),
                    "[" + percent(ci.path(0).asDouble()) + ", " + percent(ci.path(1).asDouble()) + "]",
                    counts.path(0).asInt() + "/" + counts.path(1).asInt(),
                    percent(summary.path("refusal_rate_by_" + by).path(group).asDouble()),
                    percent(summary.path("degenerate_rate_by_" + by).path(group).asDouble()));
        });
        out.println("  " + summary.path("interval").asText("95% Wilson") + "; degenerate = "
                + summary.path("degenerate_rule").path("basis").asText() + " or a loop");
    }

    /** The judge line and the run directory line under a table. */
    static void printFooter(PrintWriter out, JsonNode summary, String chart) {
        out.printf("judge: %s (config sha-256 %s...)%n", summary.path("judge").asText(),
                summary.path("judge_hash").asText().substring(0, 12));
        out.printf("run: %s (results.jsonl, summary.json%s)%n", summary.path("run").asText(), chart == null ? "" : ", " + chart + ".png");
    }

    static String percent(double rate) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * rate);
    }
}
