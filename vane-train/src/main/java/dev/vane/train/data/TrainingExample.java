package dev.vane.train.data;

import dev.vane.core.InvalidInputException;

/**
 * One training sequence: token ids and, for each position, the weight of predicting that token from the ones
 * before it (0 = not trained on, e.g. the prompt of a chat example; 1 = trained on). {@code weights[0]} is
 * always 0, since nothing predicts the first token.
 *
 * <pre>{@code
 * // "user: hi / assistant: hello": loss on the assistant's tokens only
 * TrainingExample ex = new TrainingExample(new int[]{0, 17, 18, 40, 41, 4}, new float[]{0, 0, 0, 1, 1, 1});
 * }</pre>
 *
 * @param tokens  token ids, BOS included where the model's tokenizer adds one
 * @param weights per-token loss weights, same length as tokens
 */
public record TrainingExample(int[] tokens, float[] weights) {
    public TrainingExample {
        if (tokens.length != weights.length) {
            throw new InvalidInputException("a training example has " + tokens.length + " tokens but "
                    + weights.length + " loss weights");
        }
        if (tokens.length < 2) throw new InvalidInputException("a training example needs at least 2 tokens");
        if (weights[0] != 0f) throw new InvalidInputException("the first token cannot carry a loss weight");
        for (float w : weights) {
            if (!(w >= 0) || Float.isInfinite(w)) {
                throw new InvalidInputException("loss weights must be finite and >= 0, got " + w);
            }
        }
    }

    /** An example trained on every token but the first (raw text). */
    public static TrainingExample allTokens(int[] tokens) {
        float[] w = new float[tokens.length];
        java.util.Arrays.fill(w, 1, w.length, 1f);
        return new TrainingExample(tokens, w);
    }

    public int length() {
        return tokens.length;
    }

    /** Number of positions with a non-zero weight. */
    public int trainedTokens() {
        int n = 0;
        for (float w : weights) if (w > 0) n++;
        return n;
    }
}
