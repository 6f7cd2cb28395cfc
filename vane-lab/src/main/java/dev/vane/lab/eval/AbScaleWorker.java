package dev.vane.lab.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.attack.AttackRun;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.distribute.LoadedModel;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.SteeringSetup;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.distribute.Worker;
import dev.vane.lab.distribute.WorkerFactory;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;

/**
 * {@code vane eval ab}'s measurement at one point of a scale sweep, one results line per scale
 * ({@code {"id": "scale=S", "scale", "steering", "n", ...}}): the questions' A/B probabilities, or with
 * {@code sampled} answers per question their sampled chain-of-thought answers, under the steering at that scale.
 *
 * <pre>{@code
 * AbScaleWorker w = new AbScaleWorker(new AbEvaluation(model, tokenizer), questions, null, params, unit, true, (id, d) -> { });
 * w.run(List.of(AbScaleWorker.item(64f)), line -> log.append(line.line()));
 * }</pre>
 */
public final class AbScaleWorker implements Worker {
    private final AbEvaluation evaluation;
    private final List<AbQuestion> questions;
    private final Integer sampled;
    private final SamplingParams params;
    private final Steering base;
    private final boolean sweeping;
    private final ObjIntConsumer<String> progress;

    /**
     * @param sampled   answers sampled per question, or null for the A/B probabilities
     * @param params    sampling settings of the sampled answers
     * @param base      with {@code sweeping}, the steering at scale 1 (each vector at its given scale, or 1); without,
     *                  the steering itself
     * @param progress  told (item id, questions done) as an item goes on
     */
    public AbScaleWorker(AbEvaluation evaluation, List<AbQuestion> questions, Integer sampled, SamplingParams params,
                         Steering base, boolean sweeping, ObjIntConsumer<String> progress) {
        this.evaluation = evaluation;
        this.questions = List.copyOf(questions);
        this.sampled = sampled;
        this.params = params;
        this.base = base;
        this.sweeping = sweeping;
        this.progress = progress;
    }

    /** The work item of scale {@code s}. */
    public static WorkItem item(float s) {
        return WorkItem.of("scale=" + s, RunDirectory.object().put("scale", s));
    }

    @Override
    public void run(List<WorkItem> task, Consumer<WorkLine> out) {
        for (WorkItem item : task) {
            float s = item.json().get("scale").floatValue();
            Steering steering = sweeping ? base.scaled(s) : base;
            ObjectNode row = RunDirectory.object().put("id", item.id()).put("scale", s).put("steering", steering.toString());
            if (sampled == null) {
                AbEvaluation.Result r = evaluation.evaluate(questions, steering, d -> progress.accept(item.id(), d));
                row.put("n", r.n()).put("mean_p_matching", r.meanPMatching()).put("matching_rate", r.matchingRate())
                        .put("mean_log_odds", r.meanLogOdds());
                ArrayNode items = row.putArray("p_matching");
                r.items().forEach(i -> items.add(i.pMatching()));
            } else {
                AbEvaluation.SampledResult r = evaluation.sample(questions, sampled, params, steering,
                        d -> progress.accept(item.id(), d));
                row.put("n", r.n()).put("matching_fraction", r.matchingFraction()).put("undefined_fraction", r.undefinedFraction());
                ArrayNode items = row.putArray("answers");
                r.answers().forEach(a -> items.addObject().put("question", a.question()).put("letter", a.letter()).put("text", a.text()));
            }
            out.accept(WorkLine.result(row));
        }
    }

    /** What an executor needs: the model, the questions, the steering (vectors inside), the sampling settings. */
    public ObjectNode setup(ModelSetup model) {
        ObjectNode s = RunDirectory.object();
        s.set("model", model.json());
        ArrayNode qs = s.putArray("questions");
        questions.forEach(q -> qs.add(q.json()));
        if (sampled != null) s.put("sampled", sampled);
        s.set("sampling", AttackRun.samplingJson(params));
        s.set("steering", SteeringSetup.json(base));
        s.put("sweeping", sweeping);
        s.put("batch", evaluation.batchSize()).put("reuse_prefixes", evaluation.reusesPrefixes());
        return s;
    }

    /** Builds the worker on an executor from {@link #setup}. */
    public static final class Factory implements WorkerFactory {
        @Override
        public Worker create(JsonNode setup) {
            LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
            List<AbQuestion> questions = new ArrayList<>();
            setup.get("questions").forEach(q -> questions.add(AbQuestion.fromJson(q)));
            AbEvaluation eval = new AbEvaluation(m.model(), m.tokenizer()).batchSize(setup.get("batch").asInt())
                    .reusePrefixes(setup.get("reuse_prefixes").asBoolean());
            return new AbScaleWorker(eval, questions, setup.has("sampled") ? setup.get("sampled").asInt() : null,
                    AttackRun.sampling(setup.get("sampling")), SteeringSetup.steering(setup.get("steering")),
                    setup.get("sweeping").asBoolean(), (id, done) -> { });
        }
    }
}
