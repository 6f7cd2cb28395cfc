package dev.vane.server.steer;

import dev.vane.lab.steer.SteeringVector;

/**
 * The scales a slider offers for one vector, from its metadata: from minus to plus twice the recommended scale,
 * in steps of a round number near 1/200 of that span. Twice the recommendation reaches past where the model breaks
 * (a measured recommendation is the largest fluent scale, and the scale search stops within a factor of 1.2 above
 * it; a builder's guess is the projection gap's midpoint), and the negative half removes the behaviour instead.
 * A vector recommending 0 (the search found no fluent scale) gets the span of scale 1.
 *
 * <pre>{@code
 * ScaleRange r = ScaleRange.of(antidote.metadata());     // recommended 57.1
 * r.min();    // -115
 * r.max();    //  115
 * r.step();   //    1  (a 1-2-5 step near 228.4 / 400)
 * }</pre>
 *
 * @param min  the smallest scale, a multiple of {@code step}
 * @param max  the largest scale, {@code -min}
 * @param step the slider's step
 */
public record ScaleRange(double min, double max, double step) {
    /** Slider positions across the whole range, roughly. */
    static final int POSITIONS = 400;

    /** The range for a vector with {@code metadata}. */
    public static ScaleRange of(SteeringVector.Metadata metadata) {
        double recommended = Math.abs(metadata.recommendedScale());
        double reach = 2 * (recommended > 0 ? recommended : 1);
        double step = roundStep(2 * reach / POSITIONS);
        double max = Math.ceil(reach / step - 1e-9) * step;
        return new ScaleRange(clean(-max), clean(max), step);
    }

    /** The 1-2-5 number at or above {@code raw}: steps a person reads without decimals piling up. */
    static double roundStep(double raw) {
        double decade = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[]{1, 2, 5, 10}) {
            if (m * decade >= raw * (1 - 1e-9)) return clean(m * decade);
        }
        return clean(10 * decade);
    }

    /** Drops binary noise such as 114.50000000000001 (twelve significant digits are plenty for a slider). */
    private static double clean(double v) {
        return Double.parseDouble(String.format(java.util.Locale.ROOT, "%.12g", v));
    }
}
