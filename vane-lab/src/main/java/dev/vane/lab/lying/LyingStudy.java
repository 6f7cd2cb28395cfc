package dev.vane.lab.lying;

import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.LabelledText;
import dev.vane.lab.eval.TrueFalseEvaluation;
import dev.vane.lab.extract.ActivationExtractor;
import dev.vane.lab.patch.ActivationPatching;
import dev.vane.lab.patch.LogProbDifference;
import dev.vane.lab.patch.PatchGrid;
import dev.vane.lab.probe.Folds;
import dev.vane.lab.probe.LinearProbe;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Localizing instructed lying (Campbell et al. 2023) on one model: the same true/false statements asked under an
 * honest and a liar system prompt, the answer read after the injected prefix ({@link TrueFalseEvaluation}).
 * <ul>
 *   <li>{@link #accuracy}: how often each prompt's answer matches the truth (honest high, liar low when the model
 *       lies as told);</li>
 *   <li>{@link #probes}: per layer, a linear probe for the statement's truth on the residual stream at the last
 *       token under the honest prompt (cross-validated), and the same probe applied to the liar prompt's
 *       activations: the two agree where the model still represents the truth and part where the liar prompt has
 *       flipped it;</li>
 *   <li>{@link #patch}: each attention head's output (z) patched from the honest run into the liar run, at the
 *       positions the two prompts share (aligned from the end), scored by how much of the log P(true) - log
 *       P(false) gap it restores on true statements;</li>
 *   <li>{@link #restore}: the top heads patched together on held-out statements: does a small set of heads give
 *       back honest accuracy?</li>
 * </ul>
 *
 * <pre>{@code
 * LyingStudy study = new LyingStudy(model, tokenizer, "Answer truthfully.", "You are a liar. Always give the wrong answer.");
 * study.accuracy(heldOut, true).accuracy().rate();       // 0.97
 * study.restore(heldOut, List.of(new LyingStudy.Head(3, 5)), step -> {}).accuracy().rate();
 * }</pre>
 */
public final class LyingStudy {
    /** One attention head. */
    public record Head(int layer, int head) {
        /** "L3.H5", the unit id of {@code vane patch --over heads}. */
        public String id() {
            return "L" + layer + ".H" + head;
        }

        /** Parses "L3.H5". */
        public static Head parse(String id) {
            String[] p = id.substring(1).split("\\.H");
            return new Head(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        }
    }

    /** Probe accuracy by layer: cross-validated under the honest prompt, and honest-trained applied to the liar prompt. */
    public record Probes(double[] honest, double[] liarTransfer) { }

    private static final int BATCH = 16;
    private static final double C = 1.0;

    private final Model model;
    private final TrueFalseEvaluation honest;
    private final TrueFalseEvaluation liar;

    /** The study with these two system prompts and the lying study's prefix. */
    public LyingStudy(Model model, Tokenizer tokenizer, String honestPrompt, String liarPrompt) {
        this.model = model;
        this.honest = new TrueFalseEvaluation(model, tokenizer, honestPrompt, TrueFalseEvaluation.PREFIX);
        this.liar = new TrueFalseEvaluation(model, tokenizer, liarPrompt, TrueFalseEvaluation.PREFIX);
    }

    /** The readout under the honest ({@code true}) or the liar prompt. */
    public TrueFalseEvaluation.Result accuracy(List<LabelledText> statements, boolean honestPrompt) {
        return (honestPrompt ? honest : liar).evaluate(statements, Steering.none(), d -> { });
    }

    /** Per-layer truth probes on resid_post at the last token (see the class comment). */
    public Probes probes(List<LabelledText> statements, int folds, long seed) {
        int layers = model.config().layers();
        List<String> points = new ArrayList<>();
        for (int l = 0; l < layers; l++) points.add(HookPoint.of(l, HookPoint.Kind.RESID_POST).name());
        ActivationExtractor extractor = new ActivationExtractor(model, BATCH);
        Map<String, float[][]> h = extractor.extract(prompts(statements, honest), -1, points, d -> { });
        Map<String, float[][]> l = extractor.extract(prompts(statements, liar), -1, points, d -> { });
        boolean[] labels = new boolean[statements.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = statements.get(i).label();
        LinearProbe probe = new LinearProbe(C);
        Folds split = Folds.stratified(labels, folds, seed);
        double[] cv = new double[layers], transfer = new double[layers];
        for (int k = 0; k < layers; k++) {
            float[][] xh = h.get(points.get(k)), xl = l.get(points.get(k));
            cv[k] = probe.crossValidate(xh, labels, split).accuracy();
            LinearProbe.Fit fit = probe.fit(xh, labels);
            int ok = 0;
            for (int i = 0; i < labels.length; i++) if (fit.predict(xl[i]) == labels[i]) ok++;
            transfer[k] = (double) ok / labels.length;
        }
        return new Probes(cv, transfer);
    }

    /**
     * Patches every head's z from the honest run into the liar run on the true statements of {@code statements}
     * (honest answer "true", lying answer "false"), writing the patching run into {@code run}.
     */
    public ActivationPatching.Report patch(List<LabelledText> statements, RunDirectory run, Consumer<String> step) {
        List<ActivationPatching.TokenPair> pairs = new ArrayList<>();
        int shared = Integer.MAX_VALUE;
        for (LabelledText s : statements) {
            if (!s.label()) continue;
            int[] clean = honest.prompt(s.text()), corrupt = liar.prompt(s.text());
            pairs.add(new ActivationPatching.TokenPair(clean, corrupt));
            shared = Math.min(shared, sharedEnding(clean, corrupt));
        }
        LogProbDifference metric = new LogProbDifference(honest.trueTokens(), honest.falseTokens(), "true", "false");
        ActivationPatching patching = new ActivationPatching(model,
                new ActivationPatching.Settings(HookPoint.Kind.Z, PatchGrid.parse("heads"), shared));
        return patching.run(pairs, metric, run, step);
    }

    /** Positions the two prompts patched share, counted from the end: everything after the system prompts. */
    public int sharedEnding(List<LabelledText> statements) {
        int shared = Integer.MAX_VALUE;
        for (LabelledText s : statements) shared = Math.min(shared, sharedEnding(honest.prompt(s.text()), liar.prompt(s.text())));
        return shared;
    }

    /**
     * The liar prompt's readout with {@code heads} patched from the honest run (z at the shared ending) on every
     * statement: the accuracy these heads give back.
     */
    public TrueFalseEvaluation.Result restore(List<LabelledText> statements, List<Head> heads, Consumer<String> step) {
        int ending = sharedEnding(statements);
        Map<Integer, List<Integer>> byLayer = new LinkedHashMap<>();
        for (Head h : heads) byLayer.computeIfAbsent(h.layer(), k -> new ArrayList<>()).add(h.head());
        String[] points = byLayer.keySet().stream().map(l -> HookPoint.of(l, HookPoint.Kind.Z).name()).toArray(String[]::new);
        List<TrueFalseEvaluation.Item> items = new ArrayList<>();
        for (int start = 0; start < statements.size(); start += BATCH) {
            List<LabelledText> chunk = statements.subList(start, Math.min(statements.size(), start + BATCH));
            ActivationCache cache = new ActivationCache();
            model.forward(Batch.of(prompts(chunk, honest).toArray(int[][]::new)), new Hooks().cache(cache, points));
            Hooks patched = new Hooks();
            for (Map.Entry<Integer, List<Integer>> e : byLayer.entrySet()) {
                patched.patch(HookPoint.of(e.getKey(), HookPoint.Kind.Z).name(),
                        e.getValue().stream().mapToInt(Integer::intValue).toArray(), Positions.lastN(ending), cache,
                        Hooks.Alignment.END);
            }
            int[][] lying = prompts(chunk, liar).toArray(int[][]::new);
            ForwardResult out = model.forward(Batch.of(lying), patched);
            for (int i = 0; i < chunk.size(); i++) items.add(liar.read(chunk.get(i), out.tailLogits(i, 1)));
            step.accept("restore");
        }
        return TrueFalseEvaluation.Result.of(items);
    }

    private static List<int[]> prompts(List<LabelledText> statements, TrueFalseEvaluation eval) {
        return statements.stream().map(s -> eval.prompt(s.text())).toList();
    }

    private static int sharedEnding(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[a.length - 1 - n] == b[b.length - 1 - n]) n++;
        return n;
    }
}
