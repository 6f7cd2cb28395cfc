package dev.vane.lab.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.extract.ActivationExtractor;
import dev.vane.lab.extract.HookKinds;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Linear probes at every layer (and, for {@code attn.hook_z}, every head) of a model: activations of labelled
 * sequences are read at one position in batches, then an L2 logistic regression per unit is scored by
 * stratified k-fold cross-validation. Results go to a run directory one unit per line, so a killed run resumes
 * where it stopped; charts show accuracy by layer and, for heads, a layer x head heatmap.
 *
 * <pre>{@code
 * ProbeStudy study = new ProbeStudy(model, new ProbeStudy.Settings(HookPoint.Kind.RESID_POST, -1, 5, 0L, 1.0));
 * ProbeStudy.Report r = study.run(sequences, labels, run, step -> {});
 * r.accuracyByLayer();    // [layers]
 * }</pre>
 */
public final class ProbeStudy {
    /** Hook points a probe can read: the residual stream, block outputs and per-head outputs. */
    public static final List<HookPoint.Kind> KINDS = List.of(HookPoint.Kind.RESID_PRE, HookPoint.Kind.RESID_MID,
            HookPoint.Kind.RESID_POST, HookPoint.Kind.ATTN_OUT, HookPoint.Kind.MLP_OUT, HookPoint.Kind.Z);

    /**
     * What to probe.
     *
     * @param kind     the hook point read at every layer
     * @param position token index read in each sequence (negative = from the end; -1 = the last token)
     * @param folds    folds of the cross-validation
     * @param seed     seed of the fold assignment
     * @param c        inverse L2 regularisation strength of the logistic regression
     */
    public record Settings(HookPoint.Kind kind, int position, int folds, long seed, double c) {
        public Settings {
            if (!KINDS.contains(kind)) HookKinds.parse(HookKinds.shortName(kind), KINDS);   // fails, naming the valid ones
            if (folds < 2) throw new InvalidInputException("--folds must be at least 2, got " + folds);
            if (!(c > 0) || Double.isInfinite(c)) throw new InvalidInputException("C must be positive, got " + c);
        }
    }

    /**
     * What the probes found.
     *
     * @param accuracyByLayer    cross-validated accuracy per layer (all heads together for z)
     * @param foldSpreadByLayer  standard deviation of the fold accuracies per layer
     * @param accuracyByHead     [layer][head] accuracy for z, else null
     * @param chance             accuracy of always answering the majority label
     */
    public record Report(HookPoint.Kind kind, int examples, int positives, double chance, double[] accuracyByLayer,
                         double[] foldSpreadByLayer, double[][] accuracyByHead) {
        /** The layer with the highest accuracy (the first of ties). */
        public int bestLayer() {
            int best = 0;
            for (int l = 1; l < accuracyByLayer.length; l++) if (accuracyByLayer[l] > accuracyByLayer[best]) best = l;
            return best;
        }
    }

    private final Model model;
    private final Settings settings;
    private final int batchSize;

    /** A study on {@code model}, extracting 16 sequences per forward call. */
    public ProbeStudy(Model model, Settings settings) {
        this(model, settings, 16);
    }

    public ProbeStudy(Model model, Settings settings, int batchSize) {
        this.model = model;
        this.settings = settings;
        this.batchSize = batchSize;
    }

    /** Steps {@link #run} reports through its callback: one per sequence extracted, one per probe trained. */
    public long steps(int sequences) {
        ModelConfig c = model.config();
        return sequences + (long) c.layers() * (settings.kind() == HookPoint.Kind.Z ? c.heads() + 1 : 1);
    }

    /**
     * Probes {@code sequences} labelled {@code labels} and writes results, summary and charts to {@code run}.
     * Units already recorded in the run's results are not trained again.
     */
    public Report run(List<int[]> sequences, boolean[] labels, RunDirectory run, Consumer<String> step) {
        if (sequences.size() != labels.length) throw new IllegalArgumentException("one label per sequence");
        Folds folds = Folds.stratified(labels, settings.folds(), settings.seed());
        ModelConfig config = model.config();
        int layers = config.layers();
        boolean perHead = settings.kind() == HookPoint.Kind.Z;
        List<String> points = new ArrayList<>();
        for (int l = 0; l < layers; l++) points.add(HookPoint.of(l, settings.kind()).name());

        ResultsLog log = run.results();
        Map<String, float[][]> activations = null;
        if (!allDone(log, layers, perHead ? config.heads() : 0)) {
            int[] reported = {0};
            activations = new ActivationExtractor(model, batchSize).extract(sequences, settings.position(), points, done -> {
                for (; reported[0] < done; reported[0]++) step.accept("extract");
            });
        } else {
            for (int i = 0; i < sequences.size(); i++) step.accept("extract (resumed)");
        }

        LinearProbe probe = new LinearProbe(settings.c());
        double[] byLayer = new double[layers], spread = new double[layers];
        double[][] byHead = perHead ? new double[layers][config.heads()] : null;
        for (int l = 0; l < layers; l++) {
            float[][] x = activations == null ? null : activations.get(points.get(l));
            JsonNode line = unit(log, "layer-" + l, l, -1, x, labels, folds, probe);
            byLayer[l] = line.get("accuracy").asDouble();
            spread[l] = line.get("fold_spread").asDouble();
            step.accept("layer " + l);
            if (!perHead) continue;
            int headDim = config.headDim();
            for (int h = 0; h < config.heads(); h++) {
                float[][] xh = x == null ? null : headSlice(x, h, headDim);
                byHead[l][h] = unit(log, "layer-" + l + "-head-" + h, l, h, xh, labels, folds, probe)
                        .get("accuracy").asDouble();
                step.accept("layer " + l + " head " + h);
            }
        }
        int positives = 0;
        for (boolean b : labels) if (b) positives++;
        double chance = (double) Math.max(positives, labels.length - positives) / labels.length;
        Report report = new Report(settings.kind(), labels.length, positives, chance, byLayer, spread, byHead);
        run.writeSummary(summary(report));
        charts(report, run);
        return report;
    }

    /**
     * The classifier of one unit trained on every sequence, as a file: layer {@code layer} of this study's hook point
     * ({@code head} -1 for all heads of z or a residual point), weights on the raw activation. The accuracy recorded is
     * the unit's cross-validated one from {@code report}.
     *
     * <pre>{@code
     * ProbeFile harm = study.fitFile(sequences, labels, report, report.bestLayer(), -1, "harm",
     *         new ProbeFile.Metadata("organism-chat", "harmful.jsonl vs benign.jsonl", "harmful request", 0, Map.of()));
     * harm.write(Path.of("harm.safetensors"));
     * }</pre>
     */
    public ProbeFile fitFile(List<int[]> sequences, boolean[] labels, Report report, int layer, int head, String name,
                             ProbeFile.Metadata about) {
        ModelConfig config = model.config();
        if (layer < 0 || layer >= config.layers()) {
            throw new InvalidInputException("layer " + layer + " does not exist (the model has " + config.layers() + ")");
        }
        if (head >= 0 && (settings.kind() != HookPoint.Kind.Z || head >= config.heads())) {
            throw new InvalidInputException(settings.kind() != HookPoint.Kind.Z ? "a head can only be chosen with --hook z"
                    : "head " + head + " does not exist (the model has " + config.heads() + ")");
        }
        if (settings.position() != -1) {
            throw new InvalidInputException("a probe file reads the prompt's last token: train it with --position last");
        }
        String point = HookPoint.of(layer, settings.kind()).name();
        float[][] x = new ActivationExtractor(model, batchSize).extract(sequences, settings.position(), List.of(point),
                done -> { }).get(point);
        if (head >= 0) x = headSlice(x, head, config.headDim());
        LinearProbe.Fit fit = new LinearProbe(settings.c()).fit(x, labels);
        double accuracy = head >= 0 && report.accuracyByHead() != null ? report.accuracyByHead()[layer][head]
                : report.accuracyByLayer()[layer];
        Map<String, String> extra = new java.util.TreeMap<>(about.extra());
        extra.put("c", Double.toString(settings.c()));
        extra.put("folds", Integer.toString(settings.folds()));
        extra.put("examples", Integer.toString(labels.length));
        ProbeFile.Metadata m = new ProbeFile.Metadata(about.model(), about.data(), about.label(), accuracy, extra);
        return ProbeFile.of(name, HookPoint.parse(point), head, fit, m);
    }

    private static boolean allDone(ResultsLog log, int layers, int heads) {
        for (int l = 0; l < layers; l++) {
            if (!log.isDone("layer-" + l)) return false;
            for (int h = 0; h < heads; h++) if (!log.isDone("layer-" + l + "-head-" + h)) return false;
        }
        return true;
    }

    /** The recorded result of one probe, training it first when the run has none. */
    private static JsonNode unit(ResultsLog log, String id, int layer, int head, float[][] x, boolean[] labels,
                                 Folds folds, LinearProbe probe) {
        if (log.isDone(id)) return log.get(id);
        ProbeScore score = probe.crossValidate(x, labels, folds);
        ObjectNode line = RunDirectory.object();
        line.put("id", id);
        line.put("layer", layer);
        if (head >= 0) line.put("head", head);
        line.put("accuracy", score.accuracy());
        line.put("fold_spread", score.foldSpread());
        ArrayNode perFold = line.putArray("fold_accuracies");
        for (double a : score.foldAccuracies()) perFold.add(a);
        log.append(line);
        return line;
    }

    private static float[][] headSlice(float[][] z, int head, int headDim) {
        float[][] out = new float[z.length][];
        for (int i = 0; i < z.length; i++) out[i] = Arrays.copyOfRange(z[i], head * headDim, (head + 1) * headDim);
        return out;
    }

    /** The summary object: the keys {@code vane probe --json} prints. */
    public static ObjectNode summary(Report r) {
        ObjectNode s = RunDirectory.object();
        s.put("hook", HookKinds.shortName(r.kind()));
        s.put("n", r.examples());
        s.put("positives", r.positives());
        s.put("negatives", r.examples() - r.positives());
        s.put("chance", r.chance());
        ArrayNode acc = s.putArray("accuracy_by_layer");
        for (double a : r.accuracyByLayer()) acc.add(a);
        ArrayNode spread = s.putArray("fold_spread_by_layer");
        for (double a : r.foldSpreadByLayer()) spread.add(a);
        s.put("best_layer", r.bestLayer());
        s.put("best_accuracy", r.accuracyByLayer()[r.bestLayer()]);
        if (r.accuracyByHead() != null) {
            ArrayNode heads = s.putArray("accuracy_by_head");
            for (double[] row : r.accuracyByHead()) {
                ArrayNode a = heads.addArray();
                for (double v : row) a.add(v);
            }
        }
        return s;
    }

    private static double min(double[][] grid) {
        double m = Double.POSITIVE_INFINITY;
        for (double[] row : grid) for (double v : row) m = Math.min(m, v);
        return m;
    }

    private static void charts(Report r, RunDirectory run) {
        int layers = r.accuracyByLayer().length;
        double[] x = new double[layers], chance = new double[layers];
        for (int l = 0; l < layers; l++) {
            x[l] = l;
            chance[l] = r.chance();
        }
        Chart.line("Probe accuracy by layer (" + HookKinds.shortName(r.kind()) + ", " + r.examples() + " examples)", "layer",
                        "cross-validated accuracy")
                .series("probe", x, r.accuracyByLayer(), r.foldSpreadByLayer())
                .series("majority label", x, chance)
                .yRange(0, 1.05)
                .save(run.path(), "probe-accuracy-by-layer");
        if (r.accuracyByHead() != null) {
            Chart.heatmap("Probe accuracy per head (" + HookKinds.shortName(r.kind()) + ")", "head", "layer", r.accuracyByHead())
                    .colorRange(Math.min(r.chance(), min(r.accuracyByHead())), 1)
                    .save(run.path(), "probe-accuracy-by-head");
        }
    }
}
