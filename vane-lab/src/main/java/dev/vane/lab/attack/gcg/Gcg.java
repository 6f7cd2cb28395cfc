package dev.vane.lab.attack.gcg;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.Model;
import dev.vane.core.model.PrefixCache;
import dev.vane.core.model.TrainingTape;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.eval.LogProbs;
import dev.vane.train.grad.Backward;
import dev.vane.train.grad.CrossEntropy;
import dev.vane.train.grad.Gradients;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * Greedy Coordinate Gradient (Zou et al. 2023), the adversarial-suffix attack, on Vane's own gradients. Each
 * step: the gradient of the target's cross-entropy with respect to the one-hot suffix tokens; the top-k
 * replacement tokens per position by most negative gradient; a batch of candidates, each swapping
 * {@code swaps} random positions for random top-k tokens; candidates whose text does not tokenize back to
 * their ids are dropped; every candidate's loss is computed exactly, in batched forward calls that share the
 * prompt before the suffix ({@link PrefixCache}), and the best becomes the new suffix (nanoGCG's loop).
 *
 * <p>A step's random choices depend only on the seed and the step number, so an attack resumed from a
 * recorded step's suffix continues exactly as the uninterrupted one.
 *
 * <pre>{@code
 * Gcg gcg = new Gcg(model, tokenizer, Gcg.Settings.defaults().withSteps(200));
 * SuffixSlot slot = SuffixSlot.of(tokenizer, request, "Sure, here is");
 * Gcg.Result r = gcg.attack(slot, gcg.start(slot, gcg.initialSuffix()), step -> log(step), suffix -> false);
 * }</pre>
 */
public final class Gcg {
    /**
     * @param suffixLength tokens in the suffix (20)
     * @param steps        most optimisation steps (500)
     * @param batch        candidates per step (512)
     * @param topK         replacement tokens considered per position (256)
     * @param swaps        positions each candidate changes (1)
     * @param asciiOnly    only tokens whose text is printable ASCII
     * @param seed         seed of the candidates' random choices
     * @param checkLoss    from this loss on, every {@code checkEvery} steps, ask whether the attack succeeded
     * @param checkEvery   steps between such checks
     * @param miniBatch    candidates per forward call (halved when memory runs short)
     */
    public record Settings(int suffixLength, int steps, int batch, int topK, int swaps, boolean asciiOnly, long seed,
                           double checkLoss, int checkEvery, int miniBatch) {
        public Settings {
            if (suffixLength < 1 || steps < 0 || batch < 1 || topK < 1 || swaps < 1 || checkEvery < 1 || miniBatch < 1) {
                throw new InvalidInputException("GCG settings must be positive (suffix length, batch, top-k, swaps, "
                        + "check interval, mini-batch) and steps >= 0");
            }
            if (swaps > suffixLength) throw new InvalidInputException("--swaps " + swaps + " exceeds the suffix length " + suffixLength);
        }

        /** The paper's setup: 20 tokens, 500 steps, batch 512, top-256, one swap; checks from loss 0.05. */
        public static Settings defaults() {
            return new Settings(20, 500, 512, 256, 1, true, 0, 0.05, 10, 64);
        }

        public Settings withSteps(int steps) {
            return new Settings(suffixLength, steps, batch, topK, swaps, asciiOnly, seed, checkLoss, checkEvery, miniBatch);
        }

        public Settings withBatch(int batch, int topK) {
            return new Settings(suffixLength, steps, batch, topK, swaps, asciiOnly, seed, checkLoss, checkEvery, miniBatch);
        }

        public Settings withSeed(long seed) {
            return new Settings(suffixLength, steps, batch, topK, swaps, asciiOnly, seed, checkLoss, checkEvery, miniBatch);
        }
    }

    /**
     * One finished step (step 0: the initial suffix): the suffix the search continues from and its loss, the
     * lowest-loss suffix seen so far, and how many candidates survived the filter. Recorded, the last step is
     * all an interrupted attack needs to resume.
     */
    public record Step(int step, int[] suffix, double loss, int[] best, double bestLoss, int candidates) {
    }

    /** How an attack ended: the best suffix, its loss, the steps run and whether the check said it succeeded. */
    public record Result(int[] suffix, double loss, int steps, boolean succeeded) {
    }

    /** Receives every finished step (a run directory records them to resume from). */
    @FunctionalInterface
    public interface StepListener {
        void step(Step step);
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final Settings settings;
    private final boolean[] allowed;
    private final PrefixCache prefixes;

    public Gcg(Model model, Tokenizer tokenizer, Settings settings) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.allowed = allowedTokens(tokenizer, model.config().vocabSize(), settings.asciiOnly());
        this.prefixes = new PrefixCache(model, 64L << 20);
        int n = 0;
        for (boolean a : allowed) if (a) n++;
        if (n < settings.topK()) {
            throw new InvalidInputException("only " + n + " tokens are allowed in a suffix, fewer than top-k " + settings.topK());
        }
    }

    /**
     * The paper's initial suffix, "! ! ! ...": the text with spaces when it is {@code suffixLength} tokens (Qwen's and
     * Llama's vocabularies have a spaced "!"), else that many "!" tokens side by side when their text tokenizes back
     * to them (a vocabulary without "!!"). Twenty "!" tokens side by side on a vocabulary with a "!!" token decode to
     * "!!!!...", which encodes differently: every candidate would fail the decode-encode filter.
     */
    public Settings settings() {
        return settings;
    }

    public int[] initialSuffix() {
        int n = settings.suffixLength();
        int[] spaced = tokenizer.encode(String.join(" ", Collections.nCopies(n, "!")), false);
        if (spaced.length == n && roundTrips(spaced)) return spaced;
        int[] bang = tokenizer.encode("!", false);
        if (bang.length != 1) throw new InvalidInputException("\"!\" is not one token for this tokenizer");
        int[] glued = new int[n];
        Arrays.fill(glued, bang[0]);
        if (roundTrips(glued)) return glued;
        throw new InvalidInputException("no " + n + "-token \"! ! ...\" suffix survives decode-encode for this tokenizer");
    }

    private boolean roundTrips(int[] suffix) {
        return Arrays.equals(tokenizer.encode(tokenizer.decode(suffix, false), false), suffix);
    }

    /** Fails when {@code suffix}'s text does not tokenize back to it: no candidate near it could be kept. */
    private void requireRoundTrip(int[] suffix, String what) {
        if (!roundTrips(suffix)) {
            throw new InvalidInputException(what + " does not survive decode-encode (\"" + tokenizer.decode(suffix, false)
                    + "\" tokenizes differently): its candidates would all be dropped");
        }
    }

    /**
     * Tokens a suffix may use: not special (decoding them with special tokens skipped gives nothing), not beyond
     * the tokenizer, and with {@code asciiOnly} printable ASCII only (nanoGCG's default).
     */
    static boolean[] allowedTokens(Tokenizer tokenizer, int vocab, boolean asciiOnly) {
        boolean[] ok = new boolean[vocab];
        int known = Math.min(vocab, tokenizer.vocabSize());
        for (int id = 0; id < known; id++) {
            String text = tokenizer.decode(new int[]{id}, true);
            if (text.isEmpty()) continue;
            boolean fine = true;
            if (asciiOnly) {
                for (int i = 0; i < text.length() && fine; i++) fine = text.charAt(i) >= 0x20 && text.charAt(i) < 0x7F;
            }
            ok[id] = fine;
        }
        return ok;
    }

    /** Step 0 of an attack from {@code suffix} (usually {@link #initialSuffix()}). */
    public Step start(SuffixSlot slot, int[] suffix) {
        return start(List.of(slot), suffix);
    }

    /** Step 0 of a universal attack on every slot at once (the loss is the mean over the slots). */
    public Step start(List<SuffixSlot> slots, int[] suffix) {
        requireRoundTrip(suffix, "the starting suffix");
        double l = 0;
        for (SuffixSlot slot : slots) l += loss(slot, suffix);
        l /= slots.size();
        return new Step(0, suffix.clone(), l, suffix.clone(), l, 0);
    }

    /**
     * Runs the attack on from {@code from} ({@link #start}, or the last recorded step to resume) until
     * {@link Settings#steps()}, or until {@code succeeded} says yes: it is asked about the current suffix every
     * {@code checkEvery} steps once the loss is at most {@code checkLoss}.
     */
    public Result attack(SuffixSlot slot, Step from, StepListener listener, Predicate<int[]> succeeded) {
        return attack(List.of(slot), from, listener, succeeded);
    }

    /**
     * A universal attack (Zou et al.'s multi-prompt GCG): one suffix for every slot, the loss and its gradient
     * the mean over the slots; otherwise as {@link #attack(SuffixSlot, Step, StepListener, Predicate)}.
     */
    public Result attack(List<SuffixSlot> slots, Step from, StepListener listener, Predicate<int[]> succeeded) {
        if (slots.isEmpty()) throw new IllegalArgumentException("no prompts to attack");
        Step at = from;
        for (int step = from.step(); step < settings.steps(); step++) {
            float[] grad = oneHotGradient(slots.getFirst(), at.suffix());
            for (int i = 1; i < slots.size(); i++) {
                float[] g = oneHotGradient(slots.get(i), at.suffix());
                for (int j = 0; j < grad.length; j++) grad[j] += g[j];
            }
            List<int[]> candidates = filter(sample(grad, at.suffix(), new SplittableRandom(stepSeed(step))));
            int[] current = at.suffix();
            double loss = at.loss();
            if (!candidates.isEmpty()) {
                double[] losses = new double[candidates.size()];
                for (SuffixSlot slot : slots) {
                    double[] l = losses(slot, candidates);
                    for (int i = 0; i < l.length; i++) losses[i] += l[i] / slots.size();
                }
                int arg = 0;
                for (int i = 1; i < losses.length; i++) if (losses[i] < losses[arg]) arg = i;
                // as nanoGCG: the batch's best becomes the current suffix even when it is worse (the search moves on)
                current = candidates.get(arg);
                loss = losses[arg];
            }
            boolean better = loss < at.bestLoss();
            at = new Step(step + 1, current.clone(), loss, better ? current.clone() : at.best(),
                    better ? loss : at.bestLoss(), candidates.size());
            listener.step(at);
            if (loss <= settings.checkLoss() && (step + 1) % settings.checkEvery() == 0 && succeeded.test(current)) {
                return new Result(current, loss, step + 1, true);
            }
        }
        return new Result(at.best(), at.bestLoss(), at.step(), false);
    }

    private long stepSeed(int step) {
        long z = settings.seed() * 0x9E3779B97F4A7C15L + step;       // SplitMix-style: distinct streams per step
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 31);
    }

    /**
     * d loss / d one-hot suffix token, [suffix length, vocab]: the gradient with respect to the suffix's input
     * embeddings, times the embedding matrix (and Gemma's embedding scale).
     */
    float[] oneHotGradient(SuffixSlot slot, int[] suffix) {
        int[] ids = slot.sequence(suffix);
        int t = slot.target().length, firstScored = ids.length - t - 1;
        int[] positions = new int[t];
        for (int i = 0; i < t; i++) positions[i] = firstScored + i;
        float[] ones = new float[t];
        Arrays.fill(ones, 1f);
        TrainingTape tape = new TrainingTape(false, 0);
        model.forwardForTraining(Batch.of(ids), Hooks.none(), tape);
        Gradients g = Gradients.inputsOnly();
        Backward.run(model, tape, positions, new CrossEntropy(slot.target(), ones, t), g);
        int d = model.config().dModel(), from = slot.before().length;
        float[] dSuffix = Arrays.copyOfRange(g.inputsEmbeds(), from * d, (from + suffix.length) * d);
        return Backward.oneHot(model, dSuffix, suffix.length);
    }

    /** {@link Settings#batch()} candidates: each swaps random positions of {@code suffix} for top-k tokens. */
    List<int[]> sample(float[] grad, int[] suffix, SplittableRandom random) {
        int n = suffix.length, vocab = model.config().vocabSize(), k = settings.topK();
        int[][] top = new int[n][];
        for (int p = 0; p < n; p++) top[p] = topKByNegativeGradient(grad, p * vocab, vocab, k);
        List<int[]> out = new ArrayList<>(settings.batch());
        int[] order = new int[n];
        for (int c = 0; c < settings.batch(); c++) {
            for (int i = 0; i < n; i++) order[i] = i;
            int[] cand = suffix.clone();
            for (int s = 0; s < settings.swaps(); s++) {             // distinct positions: a partial shuffle
                int j = s + random.nextInt(n - s);
                int tmp = order[s];
                order[s] = order[j];
                order[j] = tmp;
                cand[order[s]] = top[order[s]][random.nextInt(k)];
            }
            out.add(cand);
        }
        return out;
    }

    /** The {@code k} allowed tokens with the most negative gradient at one position (ties: lower id first). */
    private int[] topKByNegativeGradient(float[] grad, int off, int vocab, int k) {
        Integer[] ids = new Integer[vocab];
        int m = 0;
        for (int v = 0; v < vocab; v++) if (allowed[v]) ids[m++] = v;
        Integer[] candidates = Arrays.copyOf(ids, m);
        Arrays.sort(candidates, (a, b) -> {
            int c = Float.compare(grad[off + a], grad[off + b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] top = new int[k];
        for (int i = 0; i < k; i++) top[i] = candidates[i];
        return top;
    }

    /**
     * The candidates whose text tokenizes back to their ids (decode, then encode without special tokens), once
     * each: a suffix that changes when sent as text would not be the suffix that was optimised.
     */
    List<int[]> filter(List<int[]> candidates) {
        Set<List<Integer>> seen = new LinkedHashSet<>();
        List<int[]> kept = new ArrayList<>();
        for (int[] c : candidates) {
            List<Integer> key = Arrays.stream(c).boxed().toList();
            if (!seen.add(key)) continue;
            if (Arrays.equals(tokenizer.encode(tokenizer.decode(c, false), false), c)) kept.add(c);
        }
        return kept;
    }

    /**
     * The target's mean cross-entropy after each candidate: the prompt before the suffix runs once (shared
     * through the prefix cache), each candidate's suffix, the rest of the prompt and the target run in
     * mini-batches with logits for the target's positions only.
     */
    double[] losses(SuffixSlot slot, List<int[]> candidates) {
        double[] out = new double[candidates.size()];
        int t = slot.target().length;
        int mb = settings.miniBatch();
        for (int from = 0; from < candidates.size(); ) {
            int count = Math.min(mb, candidates.size() - from);
            try {
                int[][] rows = new int[count][];
                List<int[]> shared = Collections.nCopies(count, slot.before());
                for (int i = 0; i < count; i++) rows[i] = slot.continuation(candidates.get(from + i));
                KvCache kv = prefixes.fork(shared, rows[0].length);
                ForwardResult result = model.forward(Batch.of(rows), Hooks.none(), kv, t + 1);
                for (int i = 0; i < count; i++) out[from + i] = targetLoss(result.tailLogits(i, t + 1), slot.target());
                from += count;
            } catch (OutOfMemoryError e) {
                if (mb == 1) throw e;
                mb = Math.max(1, mb / 2);                   // the same candidates again, in smaller calls
            }
        }
        return out;
    }

    /** The loss of one suffix, computed from scratch (no shared prefix): the reference for {@link #losses}. */
    double loss(SuffixSlot slot, int[] suffix) {
        int[] ids = slot.sequence(suffix);
        int t = slot.target().length;
        ForwardResult result = model.forward(Batch.of(ids), Hooks.none(), model.newCache(1, ids.length), t + 1);
        return targetLoss(result.tailLogits(0, t + 1), slot.target());
    }

    /** Mean -log p(target[k]) over the target, from the logits of the [t + 1] last columns (the last unused). */
    private static double targetLoss(FloatTensor tail, int[] target) {
        int vocab = tail.dim(1);
        double sum = 0;
        for (int k = 0; k < target.length; k++) sum -= LogProbs.of(tail.data(), k * vocab, vocab, target[k]);
        return sum / target.length;
    }
}
