package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.RunLines;
import dev.vane.lab.distribute.Work;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.FluencyScorer;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an {@link Attack} in a run directory: the trials not yet in {@code results.jsonl} run in batches (each
 * line appended and forced to disk as its batch finishes), then {@code summary.json} and the chart (PNG and
 * SVG) are written from all the lines. Answers are judged three ways ({@link OutcomeJudge}): {@code judge} decides
 * refused or complied, and the degenerate rule, calibrated first on the unsteered model's own sampled answers to
 * the attack's prompts ({@link DegenerateCalibration}, up to {@value #CALIBRATION_PROMPTS} of them, stored in
 * the run), sets apart answers that are not fluent. Rerunning on the same directory after an interruption runs only what is
 * missing, and ends with the summary an uninterrupted run writes.
 *
 * <pre>{@code
 * RunDirectory run = RunDirectory.openOrCreate(Path.of("runs"), attack.job(), out, config);
 * ObjectNode summary = AttackRun.run(attack, new Generator(model, tokenizer), tokenizer,
 *         KeywordRefusalJudge.defaults(), Steering.none(), 16, run, AttackRun.Listener.NONE);
 * }</pre>
 */
public final class AttackRun {
    /** Follows a run's progress. */
    public interface Listener {
        /** Ignores everything. */
        Listener NONE = (pending, total) -> { };

        /** Before the first trial: {@code pending} of {@code total} trials remain to run. */
        void started(int pending, int total);

        /** The results line of the trial {@code id} is on disk. */
        default void done(String id) {
        }
    }

    /** The most distinct prompts the degenerate rule is calibrated on. */
    public static final int CALIBRATION_PROMPTS = 32;

    private AttackRun() {
    }

    /** Runs what is missing of {@code attack} in {@code run}, then writes and returns the summary. */
    public static ObjectNode run(Attack attack, Generator generator, Tokenizer tokenizer, Judge judge, Steering steering,
                                 int batchSize, RunDirectory run, Listener listener) {
        return run(attack, generator, tokenizer, judge, steering, batchSize, run, listener, Placement.local());
    }

    /**
     * {@link #run(Attack, Generator, Tokenizer, Judge, Steering, int, RunDirectory, Listener)} with each batch of
     * trials a task of {@code placement}'s executor. The degenerate rule is calibrated here, before any task, and
     * travels with the setup, so every executor judges by the same rule.
     */
    public static ObjectNode run(Attack attack, Generator generator, Tokenizer tokenizer, Judge judge, Steering steering,
                                 int batchSize, RunDirectory run, Listener listener, Placement placement) {
        List<Trial> trials = attack.trials(tokenizer);
        if (trials.isEmpty()) throw new InvalidInputException("the attack has no trials: no prompts, or no settings");
        Map<String, Trial> byId = new HashMap<>();
        for (Trial t : trials) {
            if (byId.put(t.id(), t) != null) throw new IllegalStateException("two trials with id " + t.id());
        }
        ResultsLog log = run.results();
        List<Trial> pending = trials.stream().filter(t -> !log.isDone(t.id())).toList();
        listener.started(pending.size(), trials.size());
        DegenerateCalibration calibration = DegenerateCalibration.inRun(run, generator.model(), tokenizer,
                chatPrompts(trials, CALIBRATION_PROMPTS), trials.getFirst().params().maxNewTokens(), 0);
        OutcomeJudge outcomes = new OutcomeJudge(judge, new FluencyScorer(generator.model()), calibration.rule());
        TrialRunner runner = new TrialRunner(generator, tokenizer, outcomes, steering, batchSize);
        List<List<WorkItem>> tasks = TrialRunner.batches(pending, batchSize).stream()
                .map(batch -> batch.stream().map(t -> WorkItem.of(t.id(), t.json())).toList()).toList();
        Work work = new Work(attack.job(), TrialWorker.Factory.class,
                () -> TrialWorker.setup(placement.requireModel(), steering, judge, calibration.rule(), batchSize), tasks,
                () -> new TrialWorker(runner, item -> byId.get(item.id())));
        placement.executor().execute(work, new RunLines(log).then(line -> listener.done(line.id())));

        List<JsonNode> results = trials.stream().map(t -> log.get(t.id())).toList();
        ObjectNode summary = attack.summarise(results);
        summary.put("judge", judge.name());
        summary.put("judge_hash", judge.configHash());
        summary.set("degenerate_rule", calibration.rule().json());
        run.writeSummary(summary);
        attack.chart(summary).save(run.path(), attack.chartName());
        attack.writeExtras(run, results);
        return summary;
    }

    /** The distinct chat prompts of {@code trials} (their ids before any prefill), the first {@code limit}. */
    static List<int[]> chatPrompts(List<Trial> trials, int limit) {
        Map<String, int[]> distinct = new LinkedHashMap<>();
        for (Trial t : trials) {
            int[] chat = Arrays.copyOf(t.promptIds(), t.promptEnd() + 1);
            distinct.putIfAbsent(Arrays.toString(chat), chat);
            if (distinct.size() == limit) break;
        }
        return new ArrayList<>(distinct.values());
    }

    /** The sampling settings as recorded in a run's config. */
    public static ObjectNode samplingJson(SamplingParams p) {
        ObjectNode o = RunDirectory.object();
        o.put("max_tokens", p.maxNewTokens());
        o.put("temperature", p.temperature());
        o.put("top_k", p.topK());
        o.put("top_p", p.topP());
        o.put("min_p", p.minP());
        o.put("repetition_penalty", p.repetitionPenalty());
        o.put("seed", p.seed());
        var stops = o.putArray("stop");
        p.stopStrings().forEach(stops::add);
        return o;
    }

    /** The sampling settings {@link #samplingJson} wrote. */
    public static SamplingParams sampling(JsonNode json) {
        List<String> stops = new ArrayList<>();
        json.path("stop").forEach(s -> stops.add(s.asText()));
        return new SamplingParams(json.get("max_tokens").asInt(), json.get("temperature").asDouble(), json.get("top_k").asInt(),
                json.get("top_p").asDouble(), json.get("min_p").asDouble(), json.get("repetition_penalty").asDouble(),
                json.get("seed").asLong(), stops);
    }
}
