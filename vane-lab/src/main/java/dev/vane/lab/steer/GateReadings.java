package dev.vane.lab.steer;

import java.util.Arrays;

/**
 * What the gates of one sequence read: for each probe of its {@link Steering} ({@link Steering#probes()}, same
 * order), the log-odds at the prompt's last token, NaN until the forward pass has reached the probe's hook point at
 * that token. It belongs to the sequence, not to a batch: the server moves a sequence between batch rows and caches,
 * and its gates' decision goes with it.
 *
 * <pre>{@code
 * GateReadings[] readings = steering.newReadings(prompts.size());
 * generator.generate(prompts, params, steering.hooks(prompts.size(), promptEnd, false, readings), listener);
 * steering.decisions(readings[0]);      // row 0: probability, fired, applied scale per gated term
 * }</pre>
 */
public final class GateReadings {
    private final double[] logits;

    /** Readings for {@code probes} probes, none read yet. */
    public GateReadings(int probes) {
        logits = new double[probes];
        Arrays.fill(logits, Double.NaN);
    }

    /** Records the log-odds of probe {@code probe}. */
    void record(int probe, double logit) {
        logits[probe] = logit;
    }

    /** Whether probe {@code probe} has read its token yet. */
    public boolean read(int probe) {
        return !Double.isNaN(logits[probe]);
    }

    /** The probability probe {@code probe} gave (NaN until read). */
    public double probability(int probe) {
        double z = logits[probe];
        return Double.isNaN(z) ? Double.NaN : dev.vane.lab.probe.ProbeFile.sigmoid(z);
    }
}
