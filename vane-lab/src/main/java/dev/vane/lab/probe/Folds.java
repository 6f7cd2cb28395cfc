package dev.vane.lab.probe;

import dev.vane.core.InvalidInputException;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded, stratified split of labelled examples into k folds: each fold holds about the same share of each
 * label, so a fold's accuracy is comparable to chance on the whole set. The same labels and seed give the same
 * folds, so reruns and resumed runs score the same splits.
 *
 * <pre>{@code
 * Folds folds = Folds.stratified(labels, 5, 0L);
 * int[] test = folds.test(2);        // indices of fold 2
 * int[] train = folds.train(2);      // every other index
 * }</pre>
 */
public final class Folds {
    private final int[] foldOf;
    private final int k;

    private Folds(int[] foldOf, int k) {
        this.foldOf = foldOf;
        this.k = k;
    }

    /**
     * Deals each label's examples, shuffled with {@code seed}, round-robin into {@code k} folds.
     *
     * @throws InvalidInputException when k < 2 or a label has fewer than k examples (a fold would lack it)
     */
    public static Folds stratified(boolean[] labels, int k, long seed) {
        if (k < 2) throw new InvalidInputException("cross-validation needs at least 2 folds, got " + k);
        List<Integer> positives = new ArrayList<>(), negatives = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) (labels[i] ? positives : negatives).add(i);
        if (positives.size() < k || negatives.size() < k) {
            throw new InvalidInputException(k + "-fold cross-validation needs at least " + k + " examples of each "
                    + "label; got " + positives.size() + " positive and " + negatives.size() + " negative");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] foldOf = new int[labels.length];
        int next = 0;
        for (List<Integer> group : List.of(positives, negatives)) {
            shuffle(group, random);
            // Continue the round-robin across labels so that fold sizes differ by at most one.
            for (int i : group) foldOf[i] = next++ % k;
        }
        return new Folds(foldOf, k);
    }

    /**
     * Deals whole groups, shuffled with {@code seed}, round-robin into {@code k} folds: examples of one group
     * ({@code groupOf[i]}) are always held out together. For paired data (both answers of one A/B question) this is
     * the honest split: with the twin of a held-out example in the training folds under the other label, a probe
     * scores below chance, because it learns the question, not the answer.
     *
     * @throws InvalidInputException when k < 2 or there are fewer than k groups
     */
    public static Folds grouped(int[] groupOf, int k, long seed) {
        if (k < 2) throw new InvalidInputException("cross-validation needs at least 2 folds, got " + k);
        List<Integer> groups = new ArrayList<>();
        for (int g : groupOf) if (!groups.contains(g)) groups.add(g);
        if (groups.size() < k) {
            throw new InvalidInputException(k + "-fold grouped cross-validation needs at least " + k + " groups; got " + groups.size());
        }
        shuffle(groups, new SplittableRandom(seed));
        java.util.Map<Integer, Integer> foldOfGroup = new java.util.HashMap<>();
        for (int i = 0; i < groups.size(); i++) foldOfGroup.put(groups.get(i), i % k);
        int[] foldOf = new int[groupOf.length];
        for (int i = 0; i < groupOf.length; i++) foldOf[i] = foldOfGroup.get(groupOf[i]);
        return new Folds(foldOf, k);
    }

    private static void shuffle(List<Integer> list, SplittableRandom random) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Integer t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    /** Number of folds. */
    public int count() {
        return k;
    }

    /** Indices in fold {@code fold}, ascending. */
    public int[] test(int fold) {
        return select(fold, true);
    }

    /** Indices outside fold {@code fold}, ascending. */
    public int[] train(int fold) {
        return select(fold, false);
    }

    private int[] select(int fold, boolean inside) {
        if (fold < 0 || fold >= k) throw new IllegalArgumentException("fold " + fold + " of " + k);
        int n = 0;
        for (int f : foldOf) if ((f == fold) == inside) n++;
        int[] out = new int[n];
        int j = 0;
        for (int i = 0; i < foldOf.length; i++) if ((foldOf[i] == fold) == inside) out[j++] = i;
        return out;
    }
}
