package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Generator;
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
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/** Runs an attack's tasks: each task is one batch of trials, generated together, judged, one results line each. */
final class TrialWorker implements Worker {
    private final TrialRunner runner;
    private final Function<WorkItem, Trial> trials;

    /** A worker that finds each item's trial with {@code trials} (in this JVM: the attack's own trial objects). */
    TrialWorker(TrialRunner runner, Function<WorkItem, Trial> trials) {
        this.runner = runner;
        this.trials = trials;
    }

    @Override
    public void run(List<WorkItem> task, Consumer<WorkLine> out) {
        for (TrialRunner.Done d : runner.runBatch(task.stream().map(trials).toList())) out.accept(WorkLine.result(d.line()));
    }

    /** What an executor needs to run any batch: the model, the steering (vectors inside), the judge, the rule. */
    static ObjectNode setup(ModelSetup model, Steering steering, Judge judge, DegenerateRule rule, int batchSize) {
        ObjectNode s = RunDirectory.object();
        s.set("model", model.json());
        s.set("steering", SteeringSetup.json(steering));
        s.put("batch_size", batchSize);
        return JudgeSetup.put(s, judge, rule);
    }

    /** Builds the worker on an executor; each item's input is its trial ({@link Trial#json()}). */
    public static final class Factory implements WorkerFactory {
        @Override
        public Worker create(JsonNode setup) {
            LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
            TrialRunner runner = new TrialRunner(new Generator(m.model(), m.tokenizer()), m.tokenizer(),
                    JudgeSetup.outcomes(setup, m.model()),
                    SteeringSetup.steering(setup.get("steering")), setup.get("batch_size").asInt());
            return new TrialWorker(runner, item -> Trial.fromJson(item.json()));
        }
    }
}
