package dev.vane.lab.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.distribute.LoadedModel;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.ShippedFile;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.distribute.WorkLine;
import dev.vane.lab.distribute.Worker;
import dev.vane.lab.distribute.WorkerFactory;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;

import java.util.List;
import java.util.function.Consumer;

/**
 * Measures a head sweep's items: the unsteered baseline ({@code {"id": "baseline", "metric"}}) or one head at one
 * scale ({@code {"id": "L3.H5@20.0", "layer", "head", "scale", "metric"}}).
 */
final class HeadSweepWorker implements Worker {
    private final HeadSweep sweep;
    private final SweepMetric metric;

    HeadSweepWorker(HeadSweep sweep, SweepMetric metric) {
        this.sweep = sweep;
        this.metric = metric;
    }

    @Override
    public void run(List<WorkItem> task, Consumer<WorkLine> out) {
        for (WorkItem item : task) out.accept(WorkLine.result(line(item)));
    }

    private ObjectNode line(WorkItem item) {
        if (item.id().equals(HeadSweep.BASELINE)) {
            return RunDirectory.object().put("id", item.id()).put("metric", metric.measure(Steering.none()));
        }
        JsonNode in = item.json();
        HeadSweep.Head head = new HeadSweep.Head(in.get("layer").asInt(), in.get("head").asInt());
        float scale = in.get("scale").floatValue();
        return RunDirectory.object().put("id", item.id()).put("layer", head.layer()).put("head", head.head())
                .put("scale", scale).put("metric", metric.measure(Steering.of(sweep.single(head), scale)));
    }

    /** Builds the worker on an executor: the model once per JVM, the vector from the setup, the metric from its recipe. */
    public static final class Factory implements WorkerFactory {
        @Override
        public Worker create(JsonNode setup) {
            LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
            SteeringVector vector = SteeringVector.read(ShippedFile.unpack(setup.get("vector")));
            float[] scales = new float[setup.get("scales").size()];
            for (int i = 0; i < scales.length; i++) scales[i] = setup.get("scales").get(i).floatValue();
            HeadSweep sweep = new HeadSweep(m.model().config(), vector, scales);
            return new HeadSweepWorker(sweep, SweepMetric.rebuild(setup.get("metric"), m.model(), m.tokenizer()));
        }
    }
}
