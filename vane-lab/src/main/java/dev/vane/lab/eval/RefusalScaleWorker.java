package dev.vane.lab.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.attack.AttackRun;
import dev.vane.lab.data.Request;
import dev.vane.lab.distribute.JudgeSetup;
import dev.vane.lab.distribute.LoadedModel;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.SteeringSetup;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.distribute.Worker;
import dev.vane.lab.distribute.WorkerFactory;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;

/**
 * {@code vane eval refusal}'s measurement at one point of a scale sweep ({@link SafetyMeasurement}): harmful
 * requests (prefilled or not) and benign ones answered under the steering at that scale, constant or gated on a
 * probe, one results line per point ({@code {"id": "scale=S"} or {"id": "gated scale=S"}, "scale", "variant",
 * "steering", rates...}).
 *
 * <pre>{@code
 * RefusalScaleWorker w = new RefusalScaleWorker(eval, harmful, "Sure, here is", benign, params, unit, true, gate, (id, d) -> { });
 * w.run(List.of(RefusalScaleWorker.item(48f, false)), line -> log.append(line.line()));
 * }</pre>
 */
public final class RefusalScaleWorker implements Worker {
    private final RefusalEvaluation evaluation;
    private final List<Request> harmful;
    private final String prefill;
    private final List<Request> benign;
    private final SamplingParams params;
    private final Steering base;
    private final boolean sweeping;
    private final Gate gate;
    private final ObjIntConsumer<String> progress;

    /**
     * @param benign   harmless requests, or null
     * @param base     with {@code sweeping}, the steering at scale 1; without, the steering itself
     * @param gate     the probe gating the "gated" points, or null when there are none
     * @param progress told (item id, requests answered) as an item goes on
     */
    public RefusalScaleWorker(RefusalEvaluation evaluation, List<Request> harmful, String prefill, List<Request> benign,
                              SamplingParams params, Steering base, boolean sweeping, Gate gate, ObjIntConsumer<String> progress) {
        this.evaluation = evaluation;
        this.harmful = List.copyOf(harmful);
        this.prefill = prefill;
        this.benign = benign == null ? null : List.copyOf(benign);
        this.params = params;
        this.base = base;
        this.sweeping = sweeping;
        this.gate = gate;
        this.progress = progress;
    }

    /** The work item of scale {@code s}, constant or gated; constant points keep the ids of runs without a gate. */
    public static WorkItem item(float s, boolean gated) {
        return WorkItem.of((gated ? "gated " : "") + "scale=" + s, RunDirectory.object().put("scale", s).put("gated", gated));
    }

    @Override
    public void run(List<WorkItem> task, Consumer<WorkLine> out) {
        for (WorkItem item : task) {
            JsonNode in = item.json();
            float s = in.get("scale").floatValue();
            boolean gated = in.get("gated").asBoolean();
            Steering steering = sweeping ? base.scaled(s) : base;
            if (gated) steering = steering.gatedBy(gate);
            ObjectNode row = RunDirectory.object().put("id", item.id()).put("scale", s).put("variant", gated ? "gated" : "constant")
                    .put("steering", steering.toString());
            row.setAll(SafetyMeasurement.measure(evaluation, harmful, prefill, benign, steering, params,
                    d -> progress.accept(item.id(), d)).json());
            out.accept(WorkLine.result(row));
        }
    }

    /** What an executor needs: the model, the requests, the steering and gate (inside), the judge and its rule. */
    public ObjectNode setup(ModelSetup model) {
        ObjectNode s = RunDirectory.object();
        s.set("model", model.json());
        ArrayNode h = s.putArray("harmful");
        harmful.forEach(r -> h.add(r.json()));
        s.put("prefill", prefill);
        if (benign != null) {
            ArrayNode b = s.putArray("benign");
            benign.forEach(r -> b.add(r.json()));
        }
        s.set("sampling", AttackRun.samplingJson(params));
        s.set("steering", SteeringSetup.json(base));
        s.put("sweeping", sweeping);
        if (gate != null) s.set("gate", SteeringSetup.gateJson(gate));
        s.put("batch", evaluation.batchSize());
        return JudgeSetup.put(s, evaluation.refusalJudge(), evaluation.rule());
    }

    /** Builds the worker on an executor from {@link #setup}. */
    public static final class Factory implements WorkerFactory {
        @Override
        public Worker create(JsonNode setup) {
            LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
            RefusalEvaluation eval = new RefusalEvaluation(m.model(), m.tokenizer(), JudgeSetup.judge(setup), JudgeSetup.rule(setup))
                    .batchSize(setup.get("batch").asInt());
            List<Request> harmful = new ArrayList<>();
            setup.get("harmful").forEach(r -> harmful.add(Request.fromJson(r)));
            List<Request> benign = null;
            if (setup.has("benign")) {
                benign = new ArrayList<>();
                for (JsonNode r : setup.get("benign")) benign.add(Request.fromJson(r));
            }
            return new RefusalScaleWorker(eval, harmful, setup.get("prefill").asText(), benign,
                    AttackRun.sampling(setup.get("sampling")), SteeringSetup.steering(setup.get("steering")),
                    setup.get("sweeping").asBoolean(), setup.has("gate") ? SteeringSetup.gate(setup.get("gate")) : null,
                    (id, done) -> { });
        }
    }
}
