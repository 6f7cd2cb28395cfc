package dev.vane.lab.sweep;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.RunLines;
import dev.vane.lab.distribute.SteeringSetup;
import dev.vane.lab.distribute.Work;
import dev.vane.lab.distribute.WorkItem;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.SteeringVector;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * HSI's head selection: intervene on one attention head at a time with its direction from a per-head steering
 * vector ({@code z[l,h] += scale * v[l,h]}, with v = sigma * theta the scale is the papers' alpha) and record how
 * much the behaviour metric changes from the unsteered baseline. The result is a layer x head heatmap per scale,
 * and the heads that move the metric most can be kept as a new steering vector.
 *
 * <pre>{@code
 * HeadSweep sweep = new HeadSweep(model.config(), hsiAllHeads, new float[]{-35, 35});
 * HeadSweep.Report r = sweep.run(SweepMetric.ab(eval, questions), run, step -> {});
 * SteeringVector top = sweep.topHeads(r, 4, 35f, true);     // the 4 heads raising the metric most at alpha 35
 * }</pre>
 */
public final class HeadSweep {
    /** One head of the vector. */
    public record Head(int layer, int head) {
        /** {@code L3.H5}. */
        public String id() {
            return "L" + layer + ".H" + head;
        }
    }

    /** A head's metric change at one scale. */
    public record HeadChange(Head head, float scale, double metric, double change) { }

    /**
     * Everything measured.
     *
     * @param change [scale][layer][head] metric minus baseline (NaN for heads the vector does not cover)
     */
    public record Report(String metric, String description, double baseline, float[] scales, double[][][] change,
                         List<HeadChange> all) {
        /** Heads ranked by their change at {@code scale}: largest increase first, or largest decrease first. */
        public List<HeadChange> ranked(float scale, boolean increase) {
            Comparator<HeadChange> byChange = Comparator.comparingDouble(HeadChange::change);
            return all.stream().filter(c -> c.scale() == scale)
                    .sorted(increase ? byChange.reversed() : byChange).toList();
        }
    }

    private final ModelConfig config;
    private final SteeringVector vector;
    private final float[] scales;
    private final List<Head> heads = new ArrayList<>();

    /**
     * A sweep over every head {@code vector} (per head, on {@code attn.hook_z}) covers, at each of
     * {@code scales}.
     */
    public HeadSweep(ModelConfig config, SteeringVector vector, float[] scales) {
        if (scales.length == 0) throw new InvalidInputException("--scales needs at least one scale");
        for (float s : scales) {
            if (!Float.isFinite(s) || s == 0) throw new InvalidInputException("sweep scales must be finite and non-zero, got " + s);
        }
        vector.validateFor(config);
        for (SteeringVector.Component c : vector.components()) {
            if (!c.perHead()) {
                throw new InvalidInputException("steering vector " + vector.name() + " has a residual component at "
                        + c.point() + "; a head sweep needs a per-head vector (attn.hook_z)");
            }
            int layer = HookPoint.parse(c.point()).layer();
            for (int h : c.heads()) heads.add(new Head(layer, h));
        }
        this.config = config;
        this.vector = vector;
        this.scales = scales.clone();
    }

    /** The heads swept, in layer order. */
    public List<Head> heads() {
        return List.copyOf(heads);
    }

    /** Evaluations {@link #run} reports through its callback: the baseline and one per head and scale. */
    public long steps() {
        return 1 + (long) heads.size() * scales.length;
    }

    /** The vector restricted to one head (its other values left out). */
    public SteeringVector single(Head head) {
        return restricted(List.of(head), vector.name() + "-" + head.id(), vector.metadata());
    }

    /**
     * Measures the baseline and every (head, scale) not yet in the run's results, then writes the summary and one
     * heatmap per scale.
     */
    public Report run(SweepMetric metric, RunDirectory run, Consumer<String> step) {
        return run(metric, run, Placement.local(), step);
    }

    /**
     * {@link #run(SweepMetric, RunDirectory, Consumer)} with the baseline and each (head, scale) a work item of
     * {@code placement}'s executor: on a cluster each is a task, measured by an executor that built the metric
     * once from its {@link SweepMetric#recipe()}. {@code step} hears of items already done first, then of each
     * item as its line is written.
     */
    public Report run(SweepMetric metric, RunDirectory run, Placement placement, Consumer<String> step) {
        ResultsLog log = run.results();
        List<WorkItem> pending = new ArrayList<>();
        for (WorkItem item : items()) {
            if (log.isDone(item.id())) step.accept(item.id());
            else pending.add(item);
        }
        Work work = new Work("sweep-heads", HeadSweepWorker.Factory.class, () -> setup(metric, placement.requireModel()),
                Work.oneTaskEach(pending), () -> new HeadSweepWorker(this, metric));
        placement.executor().execute(work, new RunLines(log).then(line -> step.accept(line.id())));

        double baseline = log.get(BASELINE).get("metric").asDouble();
        List<HeadChange> all = new ArrayList<>();
        double[][][] change = new double[scales.length][config.layers()][config.heads()];
        for (double[][] byLayer : change) for (double[] row : byLayer) Arrays.fill(row, Double.NaN);
        for (Head head : heads) {
            for (int s = 0; s < scales.length; s++) {
                double value = log.get(id(head, scales[s])).get("metric").asDouble();
                change[s][head.layer()][head.head()] = value - baseline;
                all.add(new HeadChange(head, scales[s], value, value - baseline));
            }
        }
        Report report = new Report(metric.name(), metric.description(), baseline, scales.clone(), change, all);
        run.writeSummary(summary(report));
        for (int s = 0; s < scales.length; s++) chart(report, s).save(run.path(), "head-sweep-scale-" + label(scales[s]));
        return report;
    }

    /** The results-line id of the unsteered measurement. */
    static final String BASELINE = "baseline";

    /** The results-line id of {@code head} at {@code scale}: {@code L3.H5@20.0}. */
    static String id(Head head, float scale) {
        return head.id() + "@" + scale;
    }

    /** The work items in measuring order: the baseline, then every head at every scale. */
    private List<WorkItem> items() {
        List<WorkItem> items = new ArrayList<>();
        items.add(WorkItem.of(BASELINE, RunDirectory.object()));
        for (Head head : heads) {
            for (float scale : scales) {
                items.add(WorkItem.of(id(head, scale), RunDirectory.object().put("layer", head.layer())
                        .put("head", head.head()).put("scale", scale)));
            }
        }
        return items;
    }

    /** What an executor needs to measure any item: the model, the vector (inside), the scales, the metric's recipe. */
    private ObjectNode setup(SweepMetric metric, ModelSetup model) {
        if (metric.recipe() == null) {
            throw new InvalidInputException("the metric " + metric.name() + " can only be measured in this JVM");
        }
        ObjectNode s = RunDirectory.object();
        s.set("model", model.json());
        s.set("vector", SteeringSetup.vector(vector));
        ArrayNode list = s.putArray("scales");
        for (float x : scales) list.add(x);
        s.set("metric", metric.recipe());
        return s;
    }

    private static String label(float scale) {
        return scale == Math.rint(scale) ? Integer.toString((int) scale) : Float.toString(scale);
    }

    /**
     * The {@code n} heads that move the metric most at {@code scale} (up when {@code increase}, else down) as a
     * steering vector whose recommended scale is {@code scale}.
     */
    public SteeringVector topHeads(Report report, int n, float scale, boolean increase) {
        if (n < 1) throw new InvalidInputException("--top must be at least 1, got " + n);
        boolean swept = false;
        for (float s : scales) swept |= s == scale;
        if (!swept) throw new InvalidInputException("scale " + scale + " was not swept (" + Arrays.toString(scales) + ")");
        List<HeadChange> best = report.ranked(scale, increase).subList(0, Math.min(n, heads.size()));
        Map<String, String> extra = new LinkedHashMap<>(vector.metadata().extra());
        // Per-head lists ("3:5=0.9,...") the source carries are cut down to the kept heads.
        extra.replaceAll((key, value) -> keepHeads(value, best.stream().map(HeadChange::head).toList()));
        extra.put("selected_by", "head sweep: " + n + " heads with the largest " + (increase ? "increase" : "decrease")
                + " of " + report.description() + " at scale " + scale + " (baseline " + report.baseline() + ")");
        StringBuilder changes = new StringBuilder();
        for (HeadChange c : best) {
            changes.append(changes.isEmpty() ? "" : ",").append(c.head().layer()).append(':').append(c.head().head())
                    .append('=').append(String.format(Locale.ROOT, "%+.4f", c.change()));
        }
        extra.put("head_sweep_changes", changes.toString());
        SteeringVector.Metadata m = vector.metadata();
        SteeringVector.Metadata meta = new SteeringVector.Metadata(m.method(), m.model(), m.sign(), m.positions(), scale,
                m.sparsity(), m.data(), extra);
        return restricted(best.stream().map(HeadChange::head).toList(), vector.name() + "-top" + n, meta);
    }

    /** {@code value} with only the kept heads' entries when it is a {@code LAYER:HEAD=...} list, else unchanged. */
    private static String keepHeads(String value, List<Head> keep) {
        if (!value.matches("\\d+:\\d+=[^,]*(,\\d+:\\d+=[^,]*)*")) return value;
        List<String> kept = new ArrayList<>();
        for (String entry : value.split(",")) {
            String[] lh = entry.substring(0, entry.indexOf('=')).split(":");
            if (keep.contains(new Head(Integer.parseInt(lh[0]), Integer.parseInt(lh[1])))) kept.add(entry);
        }
        return String.join(",", kept);
    }

    /** The vector on {@code keep} only: other heads' values zeroed, as the file format asks. */
    private SteeringVector restricted(List<Head> keep, String name, SteeringVector.Metadata meta) {
        int d = vector.headDim();
        Map<Integer, List<Integer>> byLayer = new TreeMap<>();
        for (Head h : keep) byLayer.computeIfAbsent(h.layer(), k -> new ArrayList<>()).add(h.head());
        List<SteeringVector.Component> components = new ArrayList<>();
        for (SteeringVector.Component c : vector.components()) {
            List<Integer> hs = byLayer.get(HookPoint.parse(c.point()).layer());
            if (hs == null) continue;
            float[] values = new float[c.values().length];
            int[] kept = hs.stream().mapToInt(Integer::intValue).sorted().toArray();
            for (int h : kept) System.arraycopy(c.values(), h * d, values, h * d, d);
            components.add(new SteeringVector.Component(c.point(), kept, values));
        }
        return new SteeringVector(name, components, meta, d);
    }

    /** The summary object: the keys {@code vane sweep heads --json} prints. */
    public static ObjectNode summary(Report r) {
        ObjectNode s = RunDirectory.object();
        s.put("metric", r.metric());
        s.put("description", r.description());
        s.put("baseline", r.baseline());
        ArrayNode scales = s.putArray("scales");
        for (float x : r.scales()) scales.add(x);
        ArrayNode change = s.putArray("change_by_scale");
        for (double[][] grid : r.change()) {
            ArrayNode g = change.addArray();
            for (double[] row : grid) {
                ArrayNode a = g.addArray();
                for (double v : row) {
                    if (Double.isNaN(v)) a.addNull();
                    else a.add(v);
                }
            }
        }
        // Per scale, the five heads that move the metric most in either direction.
        ArrayNode top = s.putArray("top_heads");
        for (float scale : r.scales()) {
            List<HeadChange> byMagnitude = r.all().stream().filter(c -> c.scale() == scale)
                    .sorted(Comparator.comparingDouble((HeadChange c) -> -Math.abs(c.change()))).toList();
            for (HeadChange c : byMagnitude.subList(0, Math.min(5, byMagnitude.size()))) {
                top.addObject().put("layer", c.head().layer()).put("head", c.head().head()).put("scale", scale)
                        .put("metric", c.metric()).put("change", c.change());
            }
        }
        return s;
    }

    private static Chart chart(Report r, int s) {
        // Symmetric around 0, so that the middle colour means "no change" and both directions read alike.
        double largest = 1e-3;
        for (double[] row : r.change()[s]) for (double v : row) if (!Double.isNaN(v)) largest = Math.max(largest, Math.abs(v));
        return Chart.heatmap("Head sweep: change of " + r.metric() + " at scale " + r.scales()[s] + " (baseline "
                + String.format(Locale.ROOT, "%.3f", r.baseline()) + ")", "head", "layer", r.change()[s]).colorRange(-largest, largest);
    }
}
