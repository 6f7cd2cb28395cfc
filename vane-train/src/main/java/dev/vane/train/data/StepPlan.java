package dev.vane.train.data;

import dev.vane.core.InvalidInputException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Which examples each optimiser step trains on, as a pure function of the step number, so a resumed run needs
 * nothing but the number of steps already taken to continue on the same data.
 *
 * <p>The steps are token budgets, as fairseq's {@code --max-tokens} batches are: the examples, shuffled once with
 * {@code seed}, are grouped greedily in that order into steps of at most {@code batchTokens} tokens (the sum of
 * their lengths, without padding); an example longer than the budget is a step of its own. The grouping is made
 * once per plan, so every epoch has the same {@link #stepsPerEpoch()}, and each epoch {@code e} visits the steps
 * in its own order, a shuffle seeded with {@code seed + e}. Step {@code s} (0-based, counted over the whole
 * run) is step {@code s % stepsPerEpoch} of epoch {@code s / stepsPerEpoch}; every example is trained on exactly
 * once per epoch. (Regrouping every epoch would change the number of steps from one epoch to the next, so the
 * epoch of a step and the total number of steps could not be known up front.)
 *
 * <p>Within a step, {@link #microBatches} splits the examples into padded batches that fit a memory budget,
 * whose gradients are accumulated before the optimiser step. Shuffles are Fisher-Yates driven by SplitMix64,
 * both written out here, so the plan is the same on every JVM.
 *
 * <pre>{@code
 * StepPlan plan = new StepPlan(examples, 4096, 42);
 * long total = epochs * plan.stepsPerEpoch();
 * for (long s = resumedSteps; s < total; s++) {
 *     for (List<TrainingExample> micro : StepPlan.microBatches(plan.step(s), 1024)) { ... accumulate ... }
 *     optimizer.step(schedule.lr(s));
 * }
 * }</pre>
 */
public final class StepPlan {
    /** Mixed into the seed of the grouping shuffle so it differs from the shuffle of epoch 0's step order. */
    private static final long GROUPING_SALT = 0x5DEECE66DL;

    private final List<TrainingExample> examples;
    private final long batchTokens;
    private final long seed;
    /** Indices into {@link #examples}, one array per step, in grouping order. */
    private final int[][] steps;

    /**
     * Plans the steps over {@code examples}.
     *
     * @param batchTokens at most this many tokens per step (sum of the examples' lengths), >= 1
     * @param seed        seeds the grouping and each epoch's order
     * @throws InvalidInputException if there are no examples or the budget is not positive
     */
    public StepPlan(List<TrainingExample> examples, long batchTokens, long seed) {
        if (examples.isEmpty()) throw new InvalidInputException("no training examples");
        if (batchTokens < 1) throw new InvalidInputException("tokens per step must be >= 1, got " + batchTokens);
        this.examples = List.copyOf(examples);
        this.batchTokens = batchTokens;
        this.seed = seed;

        int[] order = permutation(this.examples.size(), seed ^ GROUPING_SALT);
        // Greedy filling to the budget can leave a runt step (29 examples and then 1): take the number of steps it
        // needs and cut the same order into that many runs of about equal tokens (more if one would overflow).
        List<int[]> groups = group(order, batchTokens);
        for (int n = groups.size(); n > 1 && n <= order.length; n++) {
            List<int[]> even = evenSplit(order, n, batchTokens);
            if (even != null) {
                groups = even;
                break;
            }
        }
        this.steps = groups.toArray(int[][]::new);
    }

    /** Consecutive examples of {@code order} in groups of at most {@code budget} tokens (at least one each). */
    private List<int[]> group(int[] order, long budget) {
        List<int[]> groups = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long tokens = 0;
        for (int i : order) {
            int length = examples.get(i).length();
            if (!current.isEmpty() && tokens + length > budget) {
                groups.add(current.stream().mapToInt(Integer::intValue).toArray());
                current.clear();
                tokens = 0;
            }
            current.add(i);
            tokens += length;
        }
        groups.add(current.stream().mapToInt(Integer::intValue).toArray());
        return groups;
    }

    /**
     * {@code order} cut into {@code n} consecutive runs, each example going to the run where the middle of its
     * tokens falls; null when a run would be empty or over {@code budget}.
     */
    private List<int[]> evenSplit(int[] order, int n, long budget) {
        long total = 0;
        for (int i : order) total += examples.get(i).length();
        List<List<Integer>> runs = new ArrayList<>();
        for (int r = 0; r < n; r++) runs.add(new ArrayList<>());
        long[] tokens = new long[n];
        long before = 0;
        for (int i : order) {
            int length = examples.get(i).length();
            int run = (int) Math.min(n - 1, (2 * before + length) * n / (2 * total));
            runs.get(run).add(i);
            tokens[run] += length;
            before += length;
        }
        for (int r = 0; r < n; r++) if (runs.get(r).isEmpty() || tokens[r] > budget) return null;
        List<int[]> out = new ArrayList<>();
        for (List<Integer> run : runs) out.add(run.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    /** Number of optimiser steps in one pass over the examples. */
    public int stepsPerEpoch() {
        return steps.length;
    }

    /** The epoch (0-based) that step {@code globalStep} belongs to. */
    public long epochOf(long globalStep) {
        checkStep(globalStep);
        return globalStep / steps.length;
    }

    /** The examples of step {@code globalStep} (0-based, counted over the whole run), in a fixed order. */
    public List<TrainingExample> step(long globalStep) {
        checkStep(globalStep);
        long epoch = globalStep / steps.length;
        int within = (int) (globalStep % steps.length);
        int[] group = steps[permutation(steps.length, seed + epoch)[within]];
        List<TrainingExample> out = new ArrayList<>(group.length);
        for (int i : group) out.add(examples.get(i));
        return Collections.unmodifiableList(out);
    }

    /** The positions in the example list given to the constructor of step {@code globalStep}'s examples. */
    public int[] stepIndices(long globalStep) {
        checkStep(globalStep);
        long epoch = globalStep / steps.length;
        return steps[permutation(steps.length, seed + epoch)[(int) (globalStep % steps.length)]].clone();
    }

    public long batchTokens() {
        return batchTokens;
    }

    public long seed() {
        return seed;
    }

    /** The number of examples planned. */
    public int size() {
        return examples.size();
    }

    private static void checkStep(long globalStep) {
        if (globalStep < 0) throw new IllegalArgumentException("step must be >= 0, got " + globalStep);
    }

    /**
     * Splits one step's examples into micro-batches whose padded size (rows x longest row) is at most
     * {@code microTokens}, putting examples of similar length together so little is padding: the examples are
     * sorted by length, longest first (ties keep their order in {@code step}), and each micro-batch takes the
     * next ones while they fit. An example longer than {@code microTokens} is a micro-batch of its own. Every
     * example lands in exactly one micro-batch; the result depends only on the arguments.
     *
     * @throws IllegalArgumentException if {@code microTokens} is not positive
     */
    public static List<List<TrainingExample>> microBatches(List<TrainingExample> step, int microTokens) {
        if (microTokens < 1) throw new IllegalArgumentException("micro-batch tokens must be >= 1, got " + microTokens);
        Integer[] byLength = new Integer[step.size()];
        for (int i = 0; i < byLength.length; i++) byLength[i] = i;
        // Stable sort: equal lengths stay in step order.
        Arrays.sort(byLength, (a, b) -> Integer.compare(step.get(b).length(), step.get(a).length()));
        List<List<TrainingExample>> out = new ArrayList<>();
        List<TrainingExample> current = new ArrayList<>();
        int longest = 0;
        for (int i : byLength) {
            TrainingExample ex = step.get(i);
            if (current.isEmpty()) {
                longest = ex.length();
            } else if ((long) (current.size() + 1) * longest > microTokens) {
                out.add(List.copyOf(current));
                current.clear();
                longest = ex.length();
            }
            current.add(ex);
        }
        if (!current.isEmpty()) out.add(List.copyOf(current));
        return out;
    }

    /** Sum of the lengths of {@code examples}. */
    public static long tokens(List<TrainingExample> examples) {
        long n = 0;
        for (TrainingExample ex : examples) n += ex.length();
        return n;
    }

    /** Sum of the loss weights of {@code examples}: what a step's summed loss is divided by for its mean. */
    public static double weightSum(List<TrainingExample> examples) {
        double sum = 0;
        for (TrainingExample ex : examples) for (float w : ex.weights()) sum += w;
        return sum;
    }

    /** A permutation of [0, n) from Fisher-Yates with SplitMix64 seeded by {@code seed}. */
    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        long state = seed;
        for (int i = n - 1; i > 0; i--) {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            int j = (int) Long.remainderUnsigned(z, i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
