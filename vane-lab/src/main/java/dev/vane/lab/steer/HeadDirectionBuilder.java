package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.extract.ActivationExtractor;
import dev.vane.lab.probe.Folds;
import dev.vane.lab.probe.LinearProbe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Per-head steering on {@code attn.hook_z} as ITI (Li et al. 2023) and HSI (Darm and Riccardi 2025) build it:
 * for each head, the mass-mean direction theta = unit(mean(z | behaviour) - mean(z | not)) and sigma, the
 * population standard deviation of the projections z . theta over all examples. The vector stores sigma * theta
 * on the chosen heads, so the run-time scale is the papers' alpha ({@code z += alpha * sigma * theta} at the
 * last position of each forward call).
 *
 * <p>Heads are given (HSI's heads from a sweep, {@code --heads 12:11,13:18}) or ranked by the held-out accuracy
 * of a logistic-regression probe on each head (ITI keeps the top K). theta is the mass-mean direction or, with
 * {@link #probeDirection}, the probe's weight vector.
 *
 * <pre>{@code
 * HeadDirectionBuilder.Result r = new HeadDirectionBuilder(model).topK(8).build(set, "iti", "data.jsonl", d -> {});
 * r.vector().write(Path.of("iti.safetensors"));
 * }</pre>
 */
public final class HeadDirectionBuilder {
    /** One head's direction statistics. */
    public record HeadStat(int layer, int head, double validationAccuracy, double sigma, double meanGap) { }

    /** The vector and every head's statistics, best first. */
    public record Result(SteeringVector vector, List<HeadStat> heads) { }

    private final Model model;
    private int topK = 8;
    private Map<Integer, int[]> chosen;
    private boolean probeDirection;
    private boolean groupedFolds;
    private long seed = 0;

    /** A builder on {@code model} keeping the 8 best heads by default. */
    public HeadDirectionBuilder(Model model) {
        this.model = model;
    }

    /** Keep the {@code k} heads with the best held-out accuracy. */
    public HeadDirectionBuilder topK(int k) {
        if (k < 1) throw new InvalidInputException("--top-k-heads must be positive");
        this.topK = k;
        this.chosen = null;
        return this;
    }

    /** Use exactly these heads ({@code layer -> heads}). */
    public HeadDirectionBuilder heads(Map<Integer, int[]> heads) {
        ModelConfig c = model.config();
        heads.forEach((l, hs) -> {
            if (l < 0 || l >= c.layers()) throw new InvalidInputException("layer " + l + " out of range (model has " + c.layers() + ")");
            for (int h : hs) {
                if (h < 0 || h >= c.heads()) throw new InvalidInputException("head " + l + ":" + h + " out of range (" + c.heads() + " heads)");
            }
        });
        this.chosen = new TreeMap<>(heads);
        return this;
    }

    /** Use each head's probe weight vector as theta instead of the mass-mean difference (ITI's other variant). */
    public HeadDirectionBuilder probeDirection(boolean probe) {
        this.probeDirection = probe;
        return this;
    }

    /**
     * Score heads on folds that keep each pair (both answers of one A/B question) together. Off by default, as ITI
     * splits examples; on paired data the default split lets a probe learn the question and score below chance.
     */
    public HeadDirectionBuilder groupedFolds(boolean grouped) {
        this.groupedFolds = grouped;
        return this;
    }

    /** Seed of the validation split. */
    public HeadDirectionBuilder seed(long s) {
        this.seed = s;
        return this;
    }

    /** Builds from a contrastive set read at {@code attn.hook_z}; {@code method} is "iti" or "hsi". */
    public Result build(ContrastiveSet set, String method, String dataName, IntConsumer progress) {
        ModelConfig c = model.config();
        int[] layers = chosen != null ? chosen.keySet().stream().mapToInt(Integer::intValue).toArray()
                : IntStream.range(0, c.layers()).toArray();
        List<String> points = new ArrayList<>();
        for (int l : layers) points.add(HookPoint.of(l, HookPoint.Kind.Z).name());
        ContrastiveSet.Activations acts = set.extract(new ActivationExtractor(model), points, progress);

        int d = c.headDim();
        List<HeadStat> stats = new ArrayList<>();
        Map<String, float[]> sigmaTheta = new LinkedHashMap<>();
        for (int li = 0; li < layers.length; li++) {
            int layer = layers[li];
            int[] heads = chosen != null ? chosen.get(layer) : IntStream.range(0, c.heads()).toArray();
            for (int h : heads) {
                float[][] pos = slice(acts.positive(points.get(li)), h, d);
                float[][] neg = slice(acts.negative(points.get(li)), h, d);
                float[] diff = Directions.meanDifference(pos, neg);
                if (Directions.norm(diff) == 0) continue;     // a head that never differs cannot steer
                float[][] all = concat(pos, neg);
                boolean[] labels = new boolean[all.length];
                java.util.Arrays.fill(labels, 0, pos.length, true);
                float[] theta = probeDirection ? probeTheta(all, labels) : Directions.unit(diff);
                double sigma = Directions.projectionStd(all, theta);
                double accuracy = validationAccuracy(all, labels, groupedFolds && set.paired());
                double gap = Directions.dot(diff, theta);
                stats.add(new HeadStat(layer, h, accuracy, sigma, gap));
                float[] v = new float[d];
                for (int i = 0; i < d; i++) v[i] = (float) (sigma * theta[i]);
                sigmaTheta.put(layer + ":" + h, v);
            }
        }
        stats.sort(Comparator.comparingDouble((HeadStat s) -> -s.validationAccuracy())
                .thenComparingDouble(s -> -s.meanGap() / Math.max(s.sigma(), 1e-12)));
        List<HeadStat> selected = chosen != null ? stats : stats.subList(0, Math.min(topK, stats.size()));
        if (selected.isEmpty()) throw new InvalidInputException("no head separates the two kinds of examples");

        Map<Integer, List<Integer>> byLayer = new TreeMap<>();
        for (HeadStat s : selected) byLayer.computeIfAbsent(s.layer(), k -> new ArrayList<>()).add(s.head());
        List<SteeringVector.Component> components = new ArrayList<>();
        byLayer.forEach((layer, hs) -> {
            float[] values = new float[c.heads() * d];
            int[] heads = hs.stream().mapToInt(Integer::intValue).sorted().toArray();
            for (int h : heads) System.arraycopy(sigmaTheta.get(layer + ":" + h), 0, values, h * d, d);
            components.add(new SteeringVector.Component(HookPoint.of(layer, HookPoint.Kind.Z).name(), heads, values));
        });
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("examples", set.positives().size() + " with the behaviour, " + set.negatives().size() + " without");
        extra.put("direction", (probeDirection ? "probe weights" : "mass-mean") + ", scaled by sigma (population std of projections)");
        StringBuilder acc = new StringBuilder();
        for (HeadStat s : selected) {
            acc.append(acc.isEmpty() ? "" : ",").append(s.layer()).append(':').append(s.head()).append('=')
                    .append(String.format(java.util.Locale.ROOT, "%.3f", s.validationAccuracy()));
        }
        extra.put("head_validation_accuracy", acc.toString());
        extra.put("folds", groupedFolds && set.paired() ? "grouped by pair" : "stratified");
        double recommended = method.equals("hsi") ? 35 : 15;
        SteeringVector.Metadata meta = new SteeringVector.Metadata(method, model.directory().getFileName().toString(),
                "positive = more of the behaviour (label true / answer_matching_behavior)", PositionRule.LAST_OF_CALL,
                recommended, 1.0, dataName, extra);
        return new Result(new SteeringVector(method, components, meta, d), stats);
    }

    /**
     * ITI's head ranking: an L2 logistic-regression probe (C = 1) on the head's activations, scored on held-out
     * data. Five stratified folds, each holding out 20%, so the score is the paper's 20% validation accuracy
     * averaged over five splits (steadier on small datasets).
     */
    private double validationAccuracy(float[][] all, boolean[] labels, boolean grouped) {
        int minority = 0;
        for (boolean l : labels) if (l) minority++;
        minority = Math.min(minority, labels.length - minority);
        int folds = Math.min(5, minority);
        if (folds < 2) return Double.NaN;
        if (grouped) {
            // all = positives then negatives, pair i at i and pairs + i.
            int pairs = labels.length / 2;
            int[] groupOf = new int[labels.length];
            for (int i = 0; i < labels.length; i++) groupOf[i] = i % pairs;
            return new LinearProbe(1.0).crossValidate(all, labels, Folds.grouped(groupOf, folds, seed)).accuracy();
        }
        return new LinearProbe(1.0).crossValidate(all, labels, Folds.stratified(labels, folds, seed)).accuracy();
    }

    private static float[] probeTheta(float[][] all, boolean[] labels) {
        double[] w = new LinearProbe(1.0).fit(all, labels).weights();
        float[] f = new float[w.length];
        for (int i = 0; i < w.length; i++) f[i] = (float) w[i];
        return Directions.unit(f);
    }

    private static float[][] slice(float[][] z, int head, int d) {
        float[][] out = new float[z.length][];
        for (int i = 0; i < z.length; i++) out[i] = Arrays.copyOfRange(z[i], head * d, (head + 1) * d);
        return out;
    }

    private static float[][] concat(float[][] a, float[][] b) {
        float[][] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
