package dev.vane.lab.stats;

/**
 * A share of trials, {@code count} of {@code n}, with its 95% interval. Independent trials get the Wilson score
 * interval, which, unlike the normal approximation, stays inside [0, 1] and is sensible at 0 and n and for small n.
 * Trials that come in clusters (several samples of one prompt) are not independent: {@link #clustered} gives the
 * Wilson interval at the effective sample size instead, n divided by the design effect measured between clusters.
 *
 * <pre>{@code
 * Proportion asr = new Proportion(27, 30);
 * asr.rate();                   // 0.9
 * asr.interval();               // [0.744, 0.965]
 * Proportion.clustered(new int[]{3, 3, 0, 0}, new int[]{3, 3, 3, 3}).interval();   // wider: 2 of 4 prompts, not 6 of 12 samples
 * }</pre>
 *
 * @param count  trials counted (refused, complied, ...)
 * @param n      trials in all
 * @param design the design effect (1 for independent trials): the variance of the rate over its binomial variance
 */
public record Proportion(int count, int n, double design) {
    /** z for a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    /** A confidence interval. */
    public record Interval(double low, double high) { }

    public Proportion {
        if (n < 0 || count < 0 || count > n) throw new IllegalArgumentException("need 0 <= count <= n, got " + count + " of " + n);
        if (!(design >= 1)) throw new IllegalArgumentException("a design effect is at least 1, got " + design);
    }

    /** {@code count} of {@code n} independent trials. */
    public Proportion(int count, int n) {
        this(count, n, 1);
    }

    /** No trials yet. */
    public static Proportion none() {
        return new Proportion(0, 0);
    }

    /**
     * The share of trials counted when trial clusters (e.g. the samples of one prompt) are correlated:
     * {@code counts[c]} of {@code sizes[c]} in cluster c. The design effect is the ratio of the cluster-robust
     * variance of the pooled rate, sum((count_c - p size_c)^2) / n^2 scaled by C/(C-1), to the binomial p(1-p)/n,
     * at least 1. When every trial agrees (p = 0 or 1) the ratio is undefined and the effective sample is the
     * number of clusters, the cautious choice: a rate seen on C prompts is known to C prompts' worth.
     */
    public static Proportion clustered(int[] counts, int[] sizes) {
        if (counts.length != sizes.length) throw new IllegalArgumentException(counts.length + " counts for " + sizes.length + " clusters");
        int count = 0, n = 0, clusters = 0;
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] < 0 || counts[c] > sizes[c]) throw new IllegalArgumentException("cluster " + c + ": " + counts[c] + " of " + sizes[c]);
            count += counts[c];
            n += sizes[c];
            if (sizes[c] > 0) clusters++;
        }
        if (n == 0 || clusters == n) return new Proportion(count, n);
        double p = (double) count / n;
        if (count == 0 || count == n) return new Proportion(count, n, (double) n / clusters);
        if (clusters < 2) return new Proportion(count, n, n);
        double squares = 0;
        for (int c = 0; c < counts.length; c++) {
            double residual = counts[c] - p * sizes[c];
            squares += residual * residual;
        }
        double robust = squares / ((double) n * n) * clusters / (clusters - 1.0);
        return new Proportion(count, n, Math.max(1, robust / (p * (1 - p) / n)));
    }

    /** This tally with one more independent trial. */
    public Proportion plus(boolean counted) {
        return new Proportion(count + (counted ? 1 : 0), n + 1, design);
    }

    /** count / n; NaN when there are no trials. */
    public double rate() {
        return n == 0 ? Double.NaN : (double) count / n;
    }

    /** The trials the interval is worth: n over the design effect. */
    public double effectiveN() {
        return n / design;
    }

    /** The Wilson score interval for standard normal quantile {@code z} at the effective sample size; [0, 1] with no trials. */
    public Interval wilson(double z) {
        if (n == 0) return new Interval(0, 1);
        double m = effectiveN(), p = rate(), z2 = z * z;
        double centre = (p + z2 / (2 * m)) / (1 + z2 / m);
        double half = z / (1 + z2 / m) * Math.sqrt(p * (1 - p) / m + z2 / (4 * m * m));
        // At 0 or n the bound on that side is exactly 0 or 1; rounding would leave 0.9999999999999999.
        return new Interval(count == 0 ? 0 : Math.max(0, centre - half), count == n ? 1 : Math.min(1, centre + half));
    }

    /** The 95% interval. */
    public Interval interval() {
        return wilson(Z95);
    }
}
