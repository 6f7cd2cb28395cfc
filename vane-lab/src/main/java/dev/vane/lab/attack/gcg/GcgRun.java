package dev.vane.lab.attack.gcg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.Generator;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.RunLines;
import dev.vane.lab.distribute.Work;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.FluencyScorer;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.stats.Proportion;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Runs {@link Gcg} on a list of harmful requests in a run directory, resumable at every step, then judges the
 * greedy answer to each request with its suffix three ways. Files:
 * <ul>
 *   <li>{@code steps.jsonl}: one line per finished step, {@code "id": "<attack>/<step>"}, with the current and best
 *       suffix ids and losses; an interrupted run resumes each attack from its last recorded step (a step's random
 *       choices depend only on the seed and the step number, so the resumed attack is the uninterrupted one);</li>
 *   <li>{@code results.jsonl}: the degenerate rule's calibration, then one line per request: the suffix (text and
 *       ids), its loss, the steps run, why the attack stopped, the greedy answer and its verdict;</li>
 *   <li>{@code summary.json} and {@code loss-by-step.png}.</li>
 * </ul>
 * With {@code universal} one suffix is optimised for all requests at once (attack id {@code universal}); otherwise
 * each request has its own (attack ids {@code r0}, {@code r1}, ...). {@link #transfer} applies suffixes found
 * by an earlier run to these requests, without optimising, e.g. to another model or with a steering vector on.
 *
 * <pre>{@code
 * ObjectNode summary = GcgRun.attack(model, tokenizer, requests, Gcg.Settings.defaults().withSteps(200), false, 64,
 *         KeywordRefusalJudge.defaults(), run, GcgRun.Listener.NONE);
 * summary.get("asr");
 * }</pre>
 */
public final class GcgRun {
    /** A harmful request and the answer start the suffix should make the model write. */
    public record Request(String prompt, String target) {
        public Request {
            if (prompt.isBlank()) throw new InvalidInputException("a GCG request has an empty prompt");
            if (target.isBlank()) throw new InvalidInputException("a GCG request has an empty target: give --target TEXT");
        }
    }

    /** Follows a run. */
    public interface Listener {
        Listener NONE = new Listener() { };

        /** An attack starts (or resumes) at {@code step} of {@code steps}. */
        default void attackStarted(String attack, int step, int steps) {
        }

        /** An attack finished a step. */
        default void step(String attack, Gcg.Step step) {
        }
    }

    private GcgRun() {
    }

    /** Optimises suffixes for {@code requests} (what is not yet recorded in {@code run}), judges, summarises. */
    public static ObjectNode attack(Model model, Tokenizer tokenizer, List<Request> requests, Gcg.Settings settings,
                                    boolean universal, int maxTokens, Judge judge, RunDirectory run, Listener listener) {
        return attack(model, tokenizer, requests, settings, universal, maxTokens, judge, run, listener, Placement.local());
    }

    /**
     * {@link #attack(Model, Tokenizer, List, Gcg.Settings, boolean, int, Judge, RunDirectory, Listener)} with each
     * request's attack (or the one universal attack) a task of {@code placement}'s executor, resumed from its last
     * recorded step. The degenerate rule is calibrated here first and travels with the setup.
     */
    public static ObjectNode attack(Model model, Tokenizer tokenizer, List<Request> requests, Gcg.Settings settings,
                                    boolean universal, int maxTokens, Judge judge, RunDirectory run, Listener listener,
                                    Placement placement) {
        if (requests.isEmpty()) throw new InvalidInputException("no requests to attack");
        Gcg gcg = new Gcg(model, tokenizer, settings);
        OutcomeJudge outcomes = outcomeJudge(model, tokenizer, requests, maxTokens, judge, run);
        ResultsLog results = run.results();
        ResultsLog steps = run.results(GcgWorker.STEPS);
        List<Integer> pending = IntStream.range(0, requests.size()).filter(i -> !results.isDone("r" + i)).boxed().toList();
        List<WorkItem> items = new ArrayList<>();
        if (universal && !pending.isEmpty()) {
            items.add(WorkItem.of("universal", GcgWorker.universalInput(requests, pending, lastStep(steps, "universal"))));
        } else if (!universal) {
            for (int i : pending) items.add(WorkItem.of("r" + i, GcgWorker.attackInput(i, requests.get(i), lastStep(steps, "r" + i))));
        }
        Work work = new Work("attack-gcg", GcgWorker.Factory.class,
                () -> GcgWorker.setup(placement.requireModel(), settings, Steering.none(), maxTokens, judge, outcomes.rule()),
                Work.oneTaskEach(items), () -> new GcgWorker(gcg, new Generator(model, tokenizer), tokenizer, outcomes,
                Steering.none(), maxTokens));
        placement.executor().execute(work, new RunLines(results).with(GcgWorker.STEPS, steps)
                .then(new StepsHeard(steps, listener, settings.steps())));
        return summarise(run, requests, outcomes, universal, null, steps);
    }

    /**
     * Tells a {@link Listener} of the steps written: an attack starts (at the step it resumes from) when its first
     * new step is written, and every later step is a step.
     */
    private static final class StepsHeard implements Consumer<WorkLine> {
        private final Map<String, Integer> resumedAt = new HashMap<>();
        private final Set<String> started = new HashSet<>();
        private final Listener listener;
        private final int steps;

        StepsHeard(ResultsLog recorded, Listener listener, int steps) {
            for (JsonNode line : recorded.all()) resumedAt.merge(line.get("attack").asText(), line.get("step").asInt(), Math::max);
            this.listener = listener;
            this.steps = steps;
        }

        @Override
        public void accept(WorkLine line) {
            if (!line.log().equals(GcgWorker.STEPS)) return;
            String attack = line.line().get("attack").asText();
            Gcg.Step step = step(line.line());
            if (started.add(attack)) {
                resumedAt.putIfAbsent(attack, step.step());      // a new attack starts at its first step, 0
                listener.attackStarted(attack, resumedAt.get(attack), steps);
            }
            if (step.step() > resumedAt.get(attack)) listener.step(attack, step);
        }
    }

    /**
     * Applies the suffixes of an earlier run's {@code results.jsonl} lines to {@code requests}: each request gets the
     * suffix found for the same prompt, or, when the earlier run was universal, the one suffix. Answers are generated
     * greedily under {@code steering} on {@code model} (any model: the suffix text is tokenized anew) and judged.
     */
    public static ObjectNode transfer(Model model, Tokenizer tokenizer, List<Request> requests, List<JsonNode> source,
                                      Steering steering, int maxTokens, Judge judge, RunDirectory run, String sourceName) {
        return transfer(model, tokenizer, requests, source, steering, maxTokens, judge, run, sourceName, Placement.local());
    }

    /** {@link #transfer(Model, Tokenizer, List, List, Steering, int, Judge, RunDirectory, String)}, a task per request. */
    public static ObjectNode transfer(Model model, Tokenizer tokenizer, List<Request> requests, List<JsonNode> source,
                                      Steering steering, int maxTokens, Judge judge, RunDirectory run, String sourceName,
                                      Placement placement) {
        Map<String, String> byPrompt = new HashMap<>();
        boolean universal = false;
        for (JsonNode line : source) {
            if (!line.has("suffix")) continue;
            byPrompt.put(line.get("prompt").asText(), line.get("suffix").asText());
            universal |= line.path("universal").asBoolean(false);
        }
        if (byPrompt.isEmpty()) throw new InvalidInputException(sourceName + ": no suffixes (is it a finished `vane attack gcg` run?)");
        String shared = universal ? byPrompt.values().iterator().next() : null;
        OutcomeJudge outcomes = outcomeJudge(model, tokenizer, requests, maxTokens, judge, run);
        ResultsLog results = run.results();
        int missing = 0;
        List<WorkItem> items = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            String text = shared != null ? shared : byPrompt.get(requests.get(i).prompt());
            if (text == null) missing++;
            else if (!results.isDone("r" + i)) items.add(WorkItem.of("r" + i, GcgWorker.transferInput(i, requests.get(i), text)));
        }
        if (missing == requests.size()) {
            throw new InvalidInputException(sourceName + " holds no suffix for any of these " + requests.size()
                    + " requests (per-request suffixes apply to the same prompts; a --universal run's suffix applies to any)");
        }
        Work work = new Work("attack-gcg", GcgWorker.Factory.class,
                () -> GcgWorker.setup(placement.requireModel(), null, steering, maxTokens, judge, outcomes.rule()),
                Work.oneTaskEach(items), () -> new GcgWorker(null, new Generator(model, tokenizer), tokenizer, outcomes,
                steering, maxTokens));
        placement.executor().execute(work, new RunLines(results));
        ObjectNode s = summarise(run, requests, outcomes, universal, sourceName, null);
        s.put("without_suffix", missing);
        run.writeSummary(s);
        return s;
    }

    private static OutcomeJudge outcomeJudge(Model model, Tokenizer tokenizer, List<Request> requests, int maxTokens,
                                             Judge judge, RunDirectory run) {
        List<String> prompts = requests.stream().map(Request::prompt).limit(32).toList();
        DegenerateCalibration c = DegenerateCalibration.inRun(run, model, tokenizer,
                RefusalEvaluation.chatPrompts(tokenizer, prompts), maxTokens, 0);
        return new OutcomeJudge(judge, new FluencyScorer(model), c.rule());
    }

    /** The last recorded step of {@code attack}, or null when it has none. */
    static Gcg.Step lastStep(ResultsLog steps, String attack) {
        JsonNode last = null;
        for (JsonNode line : steps.all()) {
            if (attack.equals(line.path("attack").asText()) && (last == null || line.get("step").asInt() > last.get("step").asInt())) {
                last = line;
            }
        }
        return step(last);
    }

    /** The step a line of {@code steps.jsonl} records, or null for no line. */
    static Gcg.Step step(JsonNode line) {
        if (line == null || line.isNull()) return null;
        return new Gcg.Step(line.get("step").asInt(), ints(line.get("suffix")), line.get("loss").asDouble(),
                ints(line.get("best")), line.get("best_loss").asDouble(), line.get("candidates").asInt());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /**
     * The summary: {@code n}, {@code asr} (complied) with {@code asr_ci95}, {@code refused}, {@code degenerate} (rates),
     * the three rates with intervals under their long names, {@code target_prefix_rate}, {@code mean_steps},
     * {@code mean_loss}; the loss chart when steps were run here.
     */
    private static ObjectNode summarise(RunDirectory run, List<Request> requests, OutcomeJudge outcomes, boolean universal,
                                        String transferredFrom, ResultsLog steps) {
        ResultsLog results = run.results();
        List<JsonNode> lines = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            JsonNode line = results.get("r" + i);
            if (line != null) lines.add(line);
        }
        OutcomeRates rates = OutcomeRates.of(lines.stream().map(OutcomeRates::outcome).toList());
        ObjectNode s = RunDirectory.object().put("attack", "gcg").put("n", lines.size()).put("universal", universal);
        if (transferredFrom != null) s.put("transfer", transferredFrom);
        OutcomeRates.put(s, "asr", rates.complied());
        s.put("refused", rates.refused().rate()).put("degenerate", rates.degenerate().rate());
        rates.writeTo(s, "");
        Proportion prefix = Proportion.none();
        double stepSum = 0, lossSum = 0;
        for (JsonNode l : lines) {
            prefix = prefix.plus(l.get("target_prefix").asBoolean());
            stepSum += l.path("steps").asDouble(0);
            lossSum += l.path("loss").asDouble(Double.NaN);
        }
        OutcomeRates.put(s, "target_prefix_rate", prefix);
        if (transferredFrom == null) {
            s.put("mean_steps", stepSum / lines.size()).put("mean_loss", lossSum / lines.size());
            s.put("stopped_by_check", lines.stream().filter(l -> l.path("stopped").asText().equals("check")).count());
        }
        s.put("judge", outcomes.refusalJudge().name()).put("judge_hash", outcomes.refusalJudge().configHash());
        s.set("degenerate_rule", outcomes.rule().json());
        s.put("interval", "95% Wilson");
        if (steps != null) {
            chart(steps, universal ? List.of("universal") : lines.stream().map(l -> l.get("id").asText()).toList())
                    .save(run.path(), "loss-by-step");
            run.writeSummary(s);
        }
        return s;
    }

    /** Best loss so far by step, one line per attack (at most 12 drawn). */
    static Chart chart(ResultsLog steps, List<String> attacks) {
        Chart c = Chart.line("GCG: target loss by step", "step", "best loss so far (mean cross-entropy of the target)");
        for (String attack : attacks.subList(0, Math.min(12, attacks.size()))) {
            List<double[]> points = new ArrayList<>();
            for (JsonNode line : steps.all()) {
                if (attack.equals(line.path("attack").asText())) points.add(new double[]{line.get("step").asDouble(), line.get("best_loss").asDouble()});
            }
            points.sort((a, b) -> Double.compare(a[0], b[0]));
            c.series(attack, points.stream().mapToDouble(p -> p[0]).toArray(), points.stream().mapToDouble(p -> p[1]).toArray());
        }
        return c;
    }
}
