package dev.vane.core.model;

/**
 * How rotary position frequencies are rescaled for long context, as in {@code rope_scaling} /
 * {@code rope_parameters} of config.json.
 *
 * @param type "default", "linear" or "llama3"
 * @param factor context extension factor (1 for default)
 * @param lowFreqFactor llama3 only
 * @param highFreqFactor llama3 only
 * @param originalMaxPositions llama3 only: the context length the model was first trained on
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions) {
    /** No rescaling. */
    public static final RopeScaling NONE = new RopeScaling("default", 1, 0, 0, 0);

    /**
     * The inverse frequencies for one head: {@code headDim / 2} values, computed the way transformers
     * computes them (base^(-2i/d), then rescaled).
     */
    public double[] inverseFrequencies(double theta, int rotaryDim) {
        double[] inv = new double[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / rotaryDim);
        }
        switch (type) {
            case "default" -> { }
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) inv[i] /= factor;
            }
            case "llama3" -> {
                double lowWavelen = originalMaxPositions / lowFreqFactor;
                double highWavelen = originalMaxPositions / highFreqFactor;
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen) {
                        inv[i] = inv[i] / factor;            // low frequencies: fully interpolated
                    } else if (wavelen >= highWavelen) {      // medium: blend smoothly
                        double smooth = (originalMaxPositions / wavelen - lowFreqFactor)
                                / (highFreqFactor - lowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }                                         // high frequencies: unchanged
                }
            }
            default -> throw new IllegalStateException("unknown rope type " + type);
        }
        return inv;
    }
}
