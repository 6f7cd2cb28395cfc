package dev.vane.lab.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.run.RunDirectory;

import java.util.List;
import java.util.Locale;

/**
 * Picks a steering scale from measurements on the tuning split only: the scale with the lowest attack success
 * rate among those whose degenerate rates (on the attacked answers and on the benign answers) stay within a stated
 * limit; among equal rates the smaller intervention. Scale 0 (no steering) is always allowed, so a vector that
 * helps nowhere within the limit is chosen at 0 and reported as not helping.
 *
 * <pre>{@code
 * ScaleChoice c = ScaleChoice.lowestAsr(scales, tuningPoints, 0.10);
 * c.scale();       // e.g. 40
 * c.json();        // {"scale", "index", "limit", "rule", "split": "tuning"}
 * }</pre>
 *
 * @param index the chosen scale's index in the sweep
 * @param scale the chosen scale
 * @param limit the largest degenerate rate allowed
 * @param rule  the rule, in words
 */
public record ScaleChoice(int index, double scale, double limit, String rule) {
    /** One scale's tuning-split figures. */
    public record Point(double asr, double harmfulDegenerate, double benignDegenerate) {
        boolean within(double limit) {
            return !(harmfulDegenerate > limit) && !(benignDegenerate > limit);
        }
    }

    /** The scale of {@code scales} with the lowest ASR among those within {@code limit}. */
    public static ScaleChoice lowestAsr(List<Float> scales, List<Point> tuning, double limit) {
        if (scales.size() != tuning.size() || scales.isEmpty()) throw new IllegalArgumentException("one tuning point per scale needed");
        int best = -1;
        for (int i = 0; i < scales.size(); i++) {
            Point p = tuning.get(i);
            boolean allowed = p.within(limit) || scales.get(i) == 0f;
            if (!allowed || Double.isNaN(p.asr())) continue;
            if (best < 0 || p.asr() < tuning.get(best).asr()
                    || (p.asr() == tuning.get(best).asr() && Math.abs(scales.get(i)) < Math.abs(scales.get(best)))) {
                best = i;
            }
        }
        if (best < 0) throw new IllegalArgumentException("no scale has a measured ASR");
        return new ScaleChoice(best, scales.get(best), limit, String.format(Locale.ROOT,
                "lowest ASR on the tuning split among scales whose degenerate rates (attacked and benign answers) are at most %.2f", limit));
    }

    /** The choice as written in summaries. */
    public ObjectNode json() {
        return RunDirectory.object().put("scale", scale).put("index", index).put("limit", limit).put("rule", rule)
                .put("split", "tuning");
    }
}
