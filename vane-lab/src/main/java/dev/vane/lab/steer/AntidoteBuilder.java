package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.extract.ActivationExtractor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Jailbreak Antidote (Shen et al. 2024): per layer, the safety direction is the first principal component of
 * the paired differences (harmful - harmless) of the residual stream at the last prompt token, signed so that
 * harmful prompts project higher. Layers are ranked by how well the direction separates held-out pairs, the
 * top 37.5% are kept (never layer 0), and each kept direction keeps only its largest 5% of entries. The
 * vector holds unit directions; the scale applied at run time is the paper's alpha (larger = safer).
 *
 * <pre>{@code
 * AntidoteBuilder.Result r = new AntidoteBuilder(model, tokenizer).build(harmful, harmless, "organism train", d -> {});
 * r.vector().write(Path.of("antidote.safetensors"));
 * r.layerScores();      // held-out separation per layer
 * }</pre>
 */
public final class AntidoteBuilder {
    /** How the per-layer direction is found. */
    public enum Direction { PCA, MEAN_DIFFERENCE }

    /** The vector and, per layer, the held-out separation and the mean projection gap. */
    public record Result(SteeringVector vector, double[] layerScores, double[] projectionGaps, int[] keptLayers) { }

    private final Model model;
    private final Tokenizer tokenizer;
    private Direction direction = Direction.PCA;
    private double keepLayers = 0.375;
    private double sparsity = 0.05;
    private double heldOut = 0.2;
    private long seed = 0;
    private int[] layers;

    /** A builder with the paper's defaults: PCA, top 37.5% of layers, 5% of dimensions, 20% held out. */
    public AntidoteBuilder(Model model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.layers = IntStream.range(1, model.config().layers()).toArray();
    }

    /** PCA of paired differences (default) or their mean. */
    public AntidoteBuilder direction(Direction d) {
        this.direction = d;
        return this;
    }

    /** Fraction of candidate layers kept (default 0.375). */
    public AntidoteBuilder keepLayers(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) throw new InvalidInputException("layer fraction must be in (0, 1]");
        this.keepLayers = fraction;
        return this;
    }

    /** Fraction of dimensions kept per layer (default 0.05). */
    public AntidoteBuilder sparsity(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) throw new InvalidInputException("sparsity must be in (0, 1]");
        this.sparsity = fraction;
        return this;
    }

    /** Candidate layers (default all but layer 0); given layers are all kept. */
    public AntidoteBuilder layers(int... chosen) {
        for (int l : chosen) {
            if (l < 0 || l >= model.config().layers()) throw new InvalidInputException("layer " + l + " out of range");
        }
        this.layers = chosen.clone();
        this.keepLayers = 1.0;
        return this;
    }

    /** Seed of the held-out split and the power iteration. */
    public AntidoteBuilder seed(long s) {
        this.seed = s;
        return this;
    }

    /** Builds from paired harmful and harmless requests. */
    public Result build(List<String> harmful, List<String> harmless, String dataName, IntConsumer progress) {
        ContrastiveSet set = ContrastiveSet.chatRequests(tokenizer, harmful, harmless);
        int pairs = set.positives().size();
        if (pairs < 4) throw new InvalidInputException("Jailbreak Antidote needs at least 4 harmful/harmless pairs, got " + pairs);
        List<String> points = new ArrayList<>();
        for (int l : layers) points.add(HookPoint.of(l, HookPoint.Kind.RESID_POST).name());
        ContrastiveSet.Activations acts = set.extract(new ActivationExtractor(model), points, progress);

        int[] order = Splits.shuffled(pairs, seed);
        int test = Math.max(1, (int) Math.round(heldOut * pairs));
        int[] testIdx = Arrays.copyOfRange(order, 0, test);
        int[] trainIdx = Arrays.copyOfRange(order, test, pairs);

        int layerCount = model.config().layers();
        double[] scores = new double[layerCount];
        double[] gaps = new double[layerCount];
        Arrays.fill(scores, Double.NaN);
        Arrays.fill(gaps, Double.NaN);
        Map<Integer, float[]> directions = new LinkedHashMap<>();
        for (int i = 0; i < layers.length; i++) {
            float[][] h = acts.positive(points.get(i)), b = acts.negative(points.get(i));
            float[] heldOutDirection = direction(rows(h, trainIdx), rows(b, trainIdx));
            scores[layers[i]] = pairwiseSeparation(rows(h, testIdx), rows(b, testIdx), heldOutDirection);
            float[] s = direction(h, b);
            directions.put(layers[i], s);
            gaps[layers[i]] = mean(Directions.projections(h, s)) - mean(Directions.projections(b, s));
        }
        int keep = Math.max(1, (int) Math.ceil(keepLayers * layers.length - 1e-9));
        int[] kept = Arrays.stream(layers).boxed()
                .sorted(Comparator.comparingDouble((Integer l) -> -scores[l]).thenComparingDouble(l -> -gaps[l]))
                .limit(keep).mapToInt(Integer::intValue).sorted().toArray();

        List<SteeringVector.Component> components = new ArrayList<>();
        double gapSum = 0;
        for (int l : kept) {
            float[] sparse = SteeringVector.keepLargest(directions.get(l), sparsity);
            components.add(new SteeringVector.Component(HookPoint.of(l, HookPoint.Kind.RESID_POST).name(), null, sparse));
            gapSum += gaps[l];
        }
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("pairs", Integer.toString(pairs));
        extra.put("direction", direction == Direction.PCA ? "pca" : "mean-difference");
        // Only candidate layers: the others were never scored (layer 0 by default), and "NaN" reads as a failure.
        extra.put("layer_scores", byLayer(scores));
        extra.put("projection_gaps", byLayer(gaps));
        extra.put("kept_layers", Arrays.toString(kept));
        extra.put("seed", Long.toString(seed));
        // alpha in units of the unit direction: half the mean harmful-harmless gap of the kept layers. A whole gap
        // moves a harmless prompt onto the harmful mean, so benign answers break (on the organism: word salad at
        // 96, the whole gap); half moves it to the midpoint, the boundary, and pulls a jailbroken harmful prompt
        // back across it (organism, prefilled "Sure, here is": refusal 0.18 -> 0.55 at 48, benign refusal 0.00).
        double recommended = Math.round(gapSum / kept.length / 2 * 100) / 100.0;
        SteeringVector.Metadata meta = new SteeringVector.Metadata("antidote", model.directory().getFileName().toString(),
                "positive = safer (towards harmful-prompt representations: more refusals)", PositionRule.ALL,
                recommended, sparsity, dataName, extra);
        return new Result(new SteeringVector("antidote", components, meta, 0), scores, gaps, kept);
    }

    /** {@code {"1": 0.912, "2": 0.871}}: the candidate layers' values, as JSON. */
    private String byLayer(double[] values) {
        StringBuilder b = new StringBuilder("{");
        for (int l : layers) {
            if (b.length() > 1) b.append(", ");
            b.append('"').append(l).append("\": ").append(String.format(Locale.ROOT, "%.4f", values[l]));
        }
        return b.append('}').toString();
    }

    private float[] direction(float[][] harmful, float[][] harmless) {
        float[] s = direction == Direction.PCA
                ? Directions.firstPrincipalComponent(Directions.pairDifferences(harmful, harmless), seed)
                : Directions.unit(Directions.meanDifference(harmful, harmless));
        // The principal component's sign is arbitrary: harmful prompts must project higher.
        if (mean(Directions.projections(harmful, s)) < mean(Directions.projections(harmless, s))) {
            for (int i = 0; i < s.length; i++) s[i] = -s[i];
        }
        return s;
    }

    /** Fraction of pairs whose harmful member projects above its harmless member. */
    static double pairwiseSeparation(float[][] harmful, float[][] harmless, float[] s) {
        int right = 0;
        for (int i = 0; i < harmful.length; i++) {
            if (Directions.dot(harmful[i], s) > Directions.dot(harmless[i], s)) right++;
        }
        return (double) right / harmful.length;
    }

    private static float[][] rows(float[][] all, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = all[idx[i]];
        return out;
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }
}
