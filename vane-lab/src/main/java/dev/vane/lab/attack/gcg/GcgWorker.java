package dev.vane.lab.attack.gcg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.generate.TokenListener;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.distribute.JudgeSetup;
import dev.vane.lab.distribute.LoadedModel;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.SteeringSetup;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.distribute.Worker;
import dev.vane.lab.distribute.WorkerFactory;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Does the items of a GCG run: an attack on one request ({@code "r3"}: optimise its suffix, from the last recorded
 * step when the item carries one, then judge the greedy answer), the universal attack ({@code "universal"}: one
 * suffix for all requests, then a judged answer per request still missing), or, when the item carries a suffix,
 * a transferred suffix judged under the run's steering. Every step is written to {@code steps.jsonl} as it
 * finishes, every judged answer to {@code results.jsonl}.
 */
final class GcgWorker implements Worker {
    /** The log of steps. */
    static final String STEPS = "steps.jsonl";

    private final Gcg gcg;              // null when suffixes are transferred, not optimised
    private final Generator generator;
    private final Tokenizer tokenizer;
    private final OutcomeJudge outcomes;
    private final Steering steering;
    private final int maxTokens;

    GcgWorker(Gcg gcg, Generator generator, Tokenizer tokenizer, OutcomeJudge outcomes, Steering steering, int maxTokens) {
        this.gcg = gcg;
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.outcomes = outcomes;
        this.steering = steering;
        this.maxTokens = maxTokens;
    }

    @Override
    public void run(List<WorkItem> task, Consumer<WorkLine> out) {
        for (WorkItem item : task) {
            JsonNode in = item.json();
            if (in.has("suffix")) transferred(item.id(), in, out);
            else if (in.has("requests")) universal(in, out);
            else attack(item.id(), in, out);
        }
    }

    /** The input of an attack on request {@code item}, resuming at {@code from} (null: from the start). */
    static ObjectNode attackInput(int item, GcgRun.Request request, Gcg.Step from) {
        ObjectNode in = request(RunDirectory.object().put("item", item), request);
        if (from != null) in.set("from", stepLine("r" + item, from));
        return in;
    }

    /** The input of the universal attack: every request, the indices of those still without a line, where it resumes. */
    static ObjectNode universalInput(List<GcgRun.Request> requests, List<Integer> pending, Gcg.Step from) {
        ObjectNode in = RunDirectory.object();
        ArrayNode all = in.putArray("requests");
        requests.forEach(r -> request(all.addObject(), r));
        ArrayNode missing = in.putArray("pending");
        pending.forEach(missing::add);
        if (from != null) in.set("from", stepLine("universal", from));
        return in;
    }

    /** The input of a transferred suffix on request {@code item}. */
    static ObjectNode transferInput(int item, GcgRun.Request request, String suffix) {
        return request(RunDirectory.object().put("item", item), request).put("suffix", suffix);
    }

    private static ObjectNode request(ObjectNode into, GcgRun.Request r) {
        return into.put("prompt", r.prompt()).put("target", r.target());
    }

    private static GcgRun.Request request(JsonNode in) {
        return new GcgRun.Request(in.get("prompt").asText(), in.get("target").asText());
    }

    private void attack(String id, JsonNode in, Consumer<WorkLine> out) {
        GcgRun.Request request = request(in);
        SuffixSlot slot = SuffixSlot.of(tokenizer, request.prompt(), request.target());
        Found f = optimise(id, List.of(slot), List.of(request), GcgRun.step(in.get("from")), out);
        out.accept(WorkLine.result(attacked(id, in.get("item").asInt(), slot, request, f, false)));
    }

    private void universal(JsonNode in, Consumer<WorkLine> out) {
        List<GcgRun.Request> requests = new ArrayList<>();
        in.get("requests").forEach(r -> requests.add(request(r)));
        List<SuffixSlot> slots = requests.stream().map(r -> SuffixSlot.of(tokenizer, r.prompt(), r.target())).toList();
        Found f = optimise("universal", slots, requests, GcgRun.step(in.get("from")), out);
        for (JsonNode i : in.get("pending")) {
            int item = i.asInt();
            out.accept(WorkLine.result(attacked("r" + item, item, slots.get(item), requests.get(item), f, true)));
        }
    }

    private ObjectNode attacked(String id, int item, SuffixSlot slot, GcgRun.Request request, Found f, boolean universal) {
        return judged(slot, request, f.suffix(), Steering.none()).put("id", id).put("item", item).put("steps", f.steps())
                .put("stopped", f.stopped()).put("loss", gcg.loss(slot, f.suffix())).put("universal", universal);
    }

    private void transferred(String id, JsonNode in, Consumer<WorkLine> out) {
        GcgRun.Request request = request(in);
        SuffixSlot slot = SuffixSlot.of(tokenizer, request.prompt(), request.target());
        ObjectNode line = judged(slot, request, tokenizer.encode(in.get("suffix").asText(), false), steering);
        out.accept(WorkLine.result(line.put("id", id).put("item", in.get("item").asInt())));
    }

    /** The suffix an attack ends with, the steps it ran and why it stopped ("check": the answer complied; "steps"). */
    private record Found(int[] suffix, int steps, String stopped) { }

    private Found optimise(String attack, List<SuffixSlot> slots, List<GcgRun.Request> requests, Gcg.Step from,
                           Consumer<WorkLine> out) {
        Gcg.Settings settings = gcg.settings();
        if (from == null) {
            from = gcg.start(slots, gcg.initialSuffix());
            out.accept(new WorkLine(STEPS, stepLine(attack, from)));
        }
        // Every request's greedy answer with the suffix complies, or starts with its target (HarmBench's check).
        Predicate<int[]> succeeded = suffix -> {
            for (int i = 0; i < slots.size(); i++) {
                ObjectNode j = judged(slots.get(i), requests.get(i), suffix, Steering.none());
                if (!j.get("success").asBoolean() && !j.get("target_prefix").asBoolean()) return false;
            }
            return true;
        };
        // A run killed after a step whose check had succeeded resumes with that check, not with more steps.
        if (from.step() > 0 && from.loss() <= settings.checkLoss() && from.step() % settings.checkEvery() == 0
                && succeeded.test(from.suffix())) {
            return new Found(from.suffix(), from.step(), "check");
        }
        Gcg.Result r = gcg.attack(slots, from, step -> out.accept(new WorkLine(STEPS, stepLine(attack, step))), succeeded);
        return new Found(r.suffix(), r.steps(), r.succeeded() ? "check" : "steps");
    }

    /** The greedy answer to {@code request} with {@code suffix}, judged; fields of a results line. */
    private ObjectNode judged(SuffixSlot slot, GcgRun.Request request, int[] suffix, Steering steering) {
        int[] prompt = slot.prompt(suffix);
        Completion c = generator.generate(List.of(prompt), SamplingParams.greedy(maxTokens),
                steering.hooks(1, new int[]{prompt.length - 1}), TokenListener.none()).getFirst();
        String suffixText = tokenizer.decode(suffix, false);
        OutcomeJudge.Judged j = outcomes.judge(List.of(new OutcomeJudge.Answer(request.prompt() + " " + suffixText, "",
                c.text(), prompt, c.tokenIds()))).getFirst();
        ObjectNode line = RunDirectory.object().put("prompt", request.prompt()).put("target", request.target())
                .put("suffix", suffixText);
        ArrayNode ids = line.putArray("suffix_ids");
        for (int t : suffix) ids.add(t);
        line.put("response", c.text()).put("finish_reason", c.finishReason().label())
                .put("target_prefix", c.text().strip().startsWith(request.target().strip()));
        j.writeTo(line);
        return line;
    }

    /** A line of {@code steps.jsonl}: {@code "id": "<attack>/<step>"}, the suffix, its loss, the best so far. */
    static ObjectNode stepLine(String attack, Gcg.Step s) {
        ObjectNode o = RunDirectory.object().put("id", attack + "/" + s.step()).put("attack", attack).put("step", s.step())
                .put("loss", s.loss()).put("best_loss", s.bestLoss()).put("candidates", s.candidates());
        ArrayNode suffix = o.putArray("suffix"), best = o.putArray("best");
        for (int t : s.suffix()) suffix.add(t);
        for (int t : s.best()) best.add(t);
        return o;
    }

    /**
     * What an executor needs: the model, the GCG settings (null when transferring), the steering of transferred
     * suffixes, the judge and the calibrated degenerate rule.
     */
    static ObjectNode setup(ModelSetup model, Gcg.Settings settings, Steering steering, int maxTokens, Judge judge,
                            DegenerateRule rule) {
        ObjectNode s = RunDirectory.object();
        s.set("model", model.json());
        if (settings != null) {
            s.putObject("settings").put("suffix_length", settings.suffixLength()).put("steps", settings.steps())
                    .put("batch", settings.batch()).put("top_k", settings.topK()).put("swaps", settings.swaps())
                    .put("ascii_only", settings.asciiOnly()).put("seed", settings.seed()).put("check_loss", settings.checkLoss())
                    .put("check_every", settings.checkEvery()).put("mini_batch", settings.miniBatch());
        }
        s.set("steering", SteeringSetup.json(steering));
        s.put("max_tokens", maxTokens);
        return JudgeSetup.put(s, judge, rule);
    }

    /** Builds the worker on an executor from {@link #setup}. */
    public static final class Factory implements WorkerFactory {
        @Override
        public Worker create(JsonNode setup) {
            LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
            Model model = m.model();
            JsonNode s = setup.get("settings");
            Gcg gcg = s == null ? null : new Gcg(model, m.tokenizer(), new Gcg.Settings(s.get("suffix_length").asInt(),
                    s.get("steps").asInt(), s.get("batch").asInt(), s.get("top_k").asInt(), s.get("swaps").asInt(),
                    s.get("ascii_only").asBoolean(), s.get("seed").asLong(), s.get("check_loss").asDouble(),
                    s.get("check_every").asInt(), s.get("mini_batch").asInt()));
            return new GcgWorker(gcg, new Generator(model, m.tokenizer()), m.tokenizer(), JudgeSetup.outcomes(setup, model),
                    SteeringSetup.steering(setup.get("steering")), setup.get("max_tokens").asInt());
        }
    }
}
