package dev.vane.lab.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.probe.ProbeFile;

import java.util.Locale;

/**
 * The condition of a gated steering term: a probe reads the prompt's last token and decides how much of the term
 * its row gets. Two forms:
 * <ul>
 *   <li>threshold ({@code probe>0.5}): the full scale when the probe's probability is above the threshold, else
 *       nothing. Threshold 0 always fires (a probability is never 0), threshold 1 never does.</li>
 *   <li>soft ({@code probe~}): the scale times the probe's probability.</li>
 * </ul>
 *
 * <pre>{@code
 * Gate g = Gate.above(ProbeFile.read(Path.of("harm.safetensors")), 0.5);
 * g.factor(0.9);     // 1
 * g.factor(0.2);     // 0
 * Gate.soft(probe).factor(0.2);   // 0.2
 * Steering s = Steering.none().with(antidote, 8f, g);
 * }</pre>
 *
 * @param probe     the probe read
 * @param soft      true for the soft form (scale x probability)
 * @param threshold the probability the probe must exceed (threshold form; NaN for the soft form)
 */
public record Gate(ProbeFile probe, boolean soft, double threshold) {
    public Gate {
        if (!soft && !(threshold >= 0 && threshold <= 1)) {
            throw new InvalidInputException("gate threshold must be in [0, 1], got " + threshold);
        }
    }

    /** Fires when the probe's probability is above {@code threshold}. */
    public static Gate above(ProbeFile probe, double threshold) {
        return new Gate(probe, false, threshold);
    }

    /** Scales the term by the probe's probability. */
    public static Gate soft(ProbeFile probe) {
        return new Gate(probe, true, Double.NaN);
    }

    /** How much of the term's scale a row with probe probability {@code probability} gets: 0 to 1. */
    public double factor(double probability) {
        if (Double.isNaN(probability)) return 0;       // not read yet: the row is not steered
        if (soft) return probability;
        // threshold 0 fires even when the probability rounds to 0 in double: "above 0" means "always"
        return threshold == 0 || probability > threshold ? 1 : 0;
    }

    /** {@code harm>0.5} or {@code harm~}: the probe's name and the form, as the CLI takes it. */
    @Override
    public String toString() {
        return probe.name() + (soft ? "~" : ">" + String.format(Locale.ROOT, "%s", threshold));
    }
}
