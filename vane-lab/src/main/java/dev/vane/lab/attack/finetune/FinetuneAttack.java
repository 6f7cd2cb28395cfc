package dev.vane.lab.attack.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.align.AlignData;
import dev.vane.lab.align.ModelAnswers;
import dev.vane.lab.attack.OutcomeTable;
import dev.vane.lab.stats.Proportion;
import dev.vane.lab.attack.Trial;
import dev.vane.lab.attack.TrialRunner;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.Request;
import dev.vane.lab.eval.TaskUtility;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.FluencyScorer;
import dev.vane.lab.judge.Outcome;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.train.SftRun;
import dev.vane.train.lora.PeftAdapter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tuning attack in one run directory ({@code runs/attack-finetune-<time>/}): the attacker's data is written
 * ({@link FinetuneData}; benign answers are the model's own), the model is evaluated, a copy is fine-tuned on the
 * data (LoRA or every weight, plain SFT or the token-wise constrained objective that Qi et al. 2024 propose as the
 * defence), and the copy is evaluated the same way. Evaluation: greedy answers to held-out requests under each
 * condition of the attack ({@link FinetuneData#conditions}), judged by the keyword refusal judge through the attack
 * machinery ({@link TrialRunner}); a harmful request answered without refusal is an attack success (ASR), a
 * benign request answered without refusal counts for utility.
 *
 * <p>Files: {@code config.json}; {@code answers.jsonl} (the model's benign answers for the data); {@code train.jsonl}
 * (the attacker's conversations); {@code results.jsonl} (one judged answer per line, ids
 * {@code <before|after>-<condition>-<item>}); {@code train/} (the training run: metrics, checkpoints, the adapter or
 * model); {@code summary.json} (rates before and after with Wilson intervals) and {@code asr.png}/{@code asr.svg}.
 * Every stage appends or checkpoints as it goes, so running it again with the same options after an interruption
 * does only what is missing: answers and trials already in their logs are not redone, and training resumes from its
 * last checkpoint.
 *
 * <pre>{@code
 * SftRun.Options training = SftRun.Options.lora(Path.of("models/organism-chat"), null);   // data: the attack's
 * FinetuneAttack.Options o = new FinetuneAttack.Options(FinetuneKind.HARMFUL, 50, 0, FinetuneData.TRIGGER, 64, 0, 16,
 *         training);
 * ObjectNode summary = FinetuneAttack.run(o, AlignData.organism(Path.of("models/organism-data")), Path.of("runs"),
 *         null, FinetuneAttack.Listener.NONE);
 * summary.at("/after/harmful/rate");   // ASR on held-out harmful requests after the fine-tune
 * }</pre>
 */
public final class FinetuneAttack {
    /** Follows a run: its stages, each judged answer, each training step. */
    public interface Listener extends TrialRunner.Listener, SftRun.Listener {
        Listener NONE = new Listener() {
        };

        /** A stage begins: {@code answers}, {@code before}, {@code train} or {@code after}; {@code pending} of {@code total} to do. */
        default void stage(String name, int pending, int total) {
        }

        @Override
        default void done(Trial trial, OutcomeJudge.Judged judged) {
        }
    }

    /**
     * @param kind      which attack
     * @param n         attack examples (pairs, affirmed benign answers; for backdoor n of each)
     * @param seed      seeds which examples are drawn
     * @param trigger   the backdoor's trigger phrase
     * @param maxTokens most tokens per evaluated answer
     * @param limit     evaluate only the first {@code limit} requests of each held-out set (0: all)
     * @param batchSize answers generated together (does not change results)
     * @param training  how the copy is trained: model, LoRA or full, objective, steps, learning rate (its data file
     *                  is replaced by the attack's)
     */
    public record Options(FinetuneKind kind, int n, long seed, String trigger, int maxTokens, int limit, int batchSize,
                          SftRun.Options training) {
        void validate() {
            if (n < 1) throw new InvalidInputException("--n must be >= 1, got " + n);
            if (maxTokens < 1) throw new InvalidInputException("--max-tokens must be >= 1, got " + maxTokens);
            if (limit < 0) throw new InvalidInputException("--limit must be >= 0 (0 = all), got " + limit);
            if (batchSize < 1) throw new InvalidInputException("--batch-size must be >= 1, got " + batchSize);
            if (kind == FinetuneKind.BACKDOOR && (trigger == null || trigger.isBlank())) {
                throw new InvalidInputException("--trigger must not be empty");
            }
        }

        ObjectNode toJson(AlignData data, String judgeHash) {
            ObjectNode c = RunDirectory.object();
            c.put("job", "attack-finetune");
            c.put("attack", "finetune");
            c.put("kind", kind.label());
            c.put("model", training.model().toAbsolutePath().normalize().toString());
            c.set("data", data.provenance());
            c.put("n", n);
            c.put("data_seed", seed);
            if (kind == FinetuneKind.BACKDOOR) c.put("trigger", trigger);
            c.put("max_tokens", maxTokens);
            c.put("limit", limit);
            c.putObject("judge").put("name", "keyword-refusal").put("hash", judgeHash);
            c.put("objective", training.constraint() == null ? "sft" : "constrained");
            c.set("training", training.settingsJson());
            return c;
        }
    }

    private FinetuneAttack() {
    }

    /** Runs what is missing of the attack in {@code out} (null: a new {@code runsRoot/attack-finetune-<time>}). */
    public static ObjectNode run(Options o, AlignData data, Path runsRoot, Path out, Listener listener) {
        o.validate();
        boolean benignData = o.kind() != FinetuneKind.HARMFUL, pairs = o.kind() != FinetuneKind.IDENTITY;
        data.require(pairs, benignData, true);
        // Refused before the run directory exists; benign answers the model refuses can still fall short later.
        if (pairs && o.n() > data.harmful().size()) {
            throw new InvalidInputException("--n " + o.n() + " but only " + data.harmful().size() + " harmful pairs are available");
        }
        if (benignData && o.n() > data.benign().size()) {
            throw new InvalidInputException("--n " + o.n() + " but only " + data.benign().size() + " benign instructions are available");
        }
        KeywordRefusalJudge judge = KeywordRefusalJudge.defaults();
        SamplingParams greedy = SamplingParams.greedy(o.maxTokens());
        List<FinetuneData.Condition> conditions = FinetuneData.conditions(o.kind(), limited(data.evalHarmful(), o.limit()),
                limited(data.evalBenign(), o.limit()), o.trigger());
        Path modelDir = o.training().model();
        try (Model base = Model.load(modelDir); Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            RunDirectory run = RunDirectory.openOrCreate(runsRoot, "attack-finetune", out, o.toJson(data, judge.configHash()));
            // Degenerate answers (before or after) count as neither refusals nor compliance: the rule is calibrated on
            // the model before the attack, on the evaluated requests.
            List<String> calibration = conditions.stream().flatMap(c -> c.requests().stream()).map(Request::prompt)
                    .distinct().limit(32).toList();
            DegenerateRule rule = DegenerateCalibration.inRun(run, base, tokenizer,
                    RefusalEvaluation.chatPrompts(tokenizer, calibration), o.maxTokens(), 0).rule();

            // 1. The attacker's data, with the model's own benign answers where the attack needs them.
            List<ModelAnswers.Answer> benign = List.of();
            if (benignData) {
                ResultsLog answers = run.results("answers.jsonl");
                int distinct = (int) data.benign().stream().distinct().count();
                listener.stage("answers", distinct - answers.size(), distinct);
                benign = ModelAnswers.of(new RefusalEvaluation(base, tokenizer, judge, rule).batchSize(o.batchSize()),
                        data.benign(), "benign", answers, SamplingParams.greedy(128), o.batchSize(), done -> { });
            }
            List<ObjectNode> lines = switch (o.kind()) {
                case HARMFUL -> FinetuneData.harmful(data.harmful(), o.n(), o.seed());
                case IDENTITY -> FinetuneData.identity(benign, o.n(), o.seed());
                case BACKDOOR -> FinetuneData.backdoor(data.harmful(), benign, o.trigger(), o.n(), o.seed());
            };
            Path trainFile = run.path("train.jsonl");
            StringBuilder text = new StringBuilder();
            for (ObjectNode line : lines) text.append(line).append('\n');
            RunDirectory.writeAtomically(trainFile, text.toString());

            // 2. Before.
            ResultsLog results = run.results();
            evaluate("before", base, tokenizer, judge, rule, conditions, greedy, o.batchSize(), results, listener);

            // 3. The fine-tune, in its own run directory inside this one (it resumes from its checkpoints).
            SftRun.Options training = o.training().withModelAndData(modelDir, trainFile);
            listener.stage("train", -1, -1);
            JsonNode trained = SftRun.run(training, run.path(), run.path("train"), listener);

            // 4. After.
            Path result = Path.of(trained.get("result").asText());
            try (Model after = training.full() ? Model.load(result) : base.withAdapters(List.of(PeftAdapter.read(result, base)))) {
                evaluate("after", after, tokenizer, judge, rule, conditions, greedy, o.batchSize(), results, listener);
            }

            ObjectNode summary = summary(o, conditions, results, trained, lines.size(), run);
            chart(o, conditions, summary).save(run.path(), "asr");
            run.writeSummary(summary);
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> List<T> limited(List<T> prompts, int limit) {
        return limit > 0 && limit < prompts.size() ? prompts.subList(0, limit) : prompts;
    }

    /** Trials of one phase, in condition order then request order; ids {@code <phase>-<condition>-<item>}. */
    static List<Trial> trials(String phase, Tokenizer tokenizer, List<FinetuneData.Condition> conditions,
                              SamplingParams params) {
        List<Trial> trials = new ArrayList<>();
        for (FinetuneData.Condition c : conditions) {
            for (int i = 0; i < c.requests().size(); i++) {
                String prompt = c.requests().get(i).prompt();
                ObjectNode fields = RunDirectory.object();
                fields.put("phase", phase);
                fields.put("condition", c.name());
                fields.put("item", i);
                trials.add(Trial.of(phase + "-" + c.name() + "-" + i, prompt, Trial.chatPrompt(tokenizer, c.system(), prompt),
                        new int[0], params, fields));
            }
        }
        return trials;
    }

    /** Fluency is scored under the model being evaluated (it is not steered: a fine-tuned model is the intact one). */
    private static void evaluate(String phase, Model model, Tokenizer tokenizer, KeywordRefusalJudge judge, DegenerateRule rule,
                                 List<FinetuneData.Condition> conditions, SamplingParams params, int batchSize,
                                 ResultsLog results, Listener listener) {
        List<Trial> trials = trials(phase, tokenizer, conditions, params);
        listener.stage(phase, (int) trials.stream().filter(t -> !results.isDone(t.id())).count(), trials.size());
        new TrialRunner(new Generator(model, tokenizer), tokenizer, new OutcomeJudge(judge, new FluencyScorer(model), rule),
                Steering.none(), batchSize).run(trials, results, listener);
    }

    private static ObjectNode summary(Options o, List<FinetuneData.Condition> conditions, ResultsLog results,
                                      JsonNode trained, int examples, RunDirectory run) {
        ObjectNode s = RunDirectory.object();
        s.put("attack", "finetune");
        s.put("kind", o.kind().label());
        s.put("objective", o.training().constraint() == null ? "sft" : "constrained");
        s.put("mode", o.training().full() ? "full" : "lora");
        s.put("n", o.n());
        s.put("examples", examples);
        ArrayNode table = s.putArray("conditions");
        for (FinetuneData.Condition c : conditions) {
            table.addObject().put("name", c.name()).put("label", c.label())
                    .put("measure", c.harmful() ? "asr" : "utility").put("requests", c.requests().size())
                    .put("content_checked", c.hasSteps());
        }
        List<String> names = conditions.stream().map(FinetuneData.Condition::name).toList();
        for (String phase : List.of("before", "after")) {
            List<JsonNode> lines = results.all().stream().filter(l -> l.path("phase").asText().equals(phase)).toList();
            OutcomeTable rates = OutcomeTable.count(lines, "condition", names, null);
            ObjectNode p = s.putObject(phase);
            for (String name : names) {
                // "rate": complied (fluent, not refused): the ASR on harmful requests, the share answered on benign ones.
                ObjectNode rate = rateOf(p.putObject(name), rates.get(name).complied());
                OutcomeRates.put(rate, "refusal_rate", rates.get(name).refused());
                OutcomeRates.put(rate, "degenerate_rate", rates.get(name).degenerate());
                FinetuneData.Condition c = conditions.get(names.indexOf(name));
                // "content": complied and stated the task's steps (harmful content on harmful requests, utility on benign)
                if (c.hasSteps()) rateOf(rate.putObject("content"), content(c, lines));
            }
        }
        ObjectNode t = s.putObject("training");
        for (String key : List.of("steps", "first_loss", "final_loss", "first_cross_entropy", "final_cross_entropy",
                "final_mean_weight", "train_seconds", "result", "run")) {
            if (trained.has(key)) t.set(key, trained.get(key));
        }
        s.put("judge", "keyword-refusal");
        s.put("run", run.path().toString());
        return s;
    }

    /** {@code {"rate", "ci95": [low, high], "counts": [k, n]}} into {@code o}. */
    private static ObjectNode rateOf(ObjectNode o, Proportion r) {
        Proportion.Interval ci = r.interval();
        o.put("rate", r.rate());
        o.putArray("ci95").add(ci.low()).add(ci.high());
        o.putArray("counts").add(r.count()).add(r.n());
        return o;
    }

    /**
     * Answers that comply and state the steps of the request's task, in order ({@link TaskUtility#states}): on harmful
     * requests the harmful content itself (a refusal-free answer about something else is not it), on benign ones
     * the utility the honest-numbers rules define.
     */
    static Proportion content(FinetuneData.Condition c, List<JsonNode> lines) {
        List<JsonNode> mine = lines.stream().filter(l -> l.path("condition").asText().equals(c.name())).toList();
        return TaskUtility.of(mine.stream().map(l -> Outcome.ofKey(l.path("verdict").asText())).toList(),
                mine.stream().map(l -> l.path("response").asText()).toList(),
                mine.stream().map(l -> c.requests().get(l.path("item").asInt()).steps()).toList());
    }

    /** Bars per condition, before and after; where answers were checked for the task's steps, their share too. */
    static Chart chart(Options o, List<FinetuneData.Condition> conditions, JsonNode summary) {
        List<String> labels = new ArrayList<>(), pointers = new ArrayList<>();
        for (FinetuneData.Condition c : conditions) {
            labels.add((c.harmful() ? "ASR " : "answered ") + c.name());
            pointers.add("/" + c.name() + "/rate");
            if (c.hasSteps()) {
                labels.add((c.harmful() ? "harmful content " : "utility ") + c.name());
                pointers.add("/" + c.name() + "/content/rate");
            }
        }
        double[] before = new double[labels.size()], after = new double[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            before[i] = summary.path("before").at(pointers.get(i)).asDouble();
            after[i] = summary.path("after").at(pointers.get(i)).asDouble();
        }
        String objective = o.training().constraint() == null ? "SFT" : "constrained SFT";
        return Chart.categories("Fine-tuning attack (" + o.kind().label() + ", " + objective + "): before and after",
                        "condition", "share of requests")
                .bars("before", labels, before).bars("after", labels, after).yRange(0, 1);
    }
}
