package dev.vane.core.generate;

import dev.vane.core.InvalidInputException;

import java.util.List;

/**
 * How to pick each next token and when to stop. Defaults are greedy decoding of up to 128 tokens.
 *
 * <pre>{@code
 * SamplingParams greedy = SamplingParams.greedy(64);
 * SamplingParams sampled = SamplingParams.greedy(256).withTemperature(0.9).withTopP(0.6).withSeed(7);
 * }</pre>
 *
 * @param maxNewTokens      most tokens generated per sequence
 * @param temperature       0 for greedy (argmax); otherwise logits are divided by it before sampling
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p (1 = off)
 * @param minP              drop tokens less likely than minP x the top token's probability (0 = off)
 * @param repetitionPenalty divide positive / multiply negative logits of tokens already present (1 = off)
 * @param seed              seed of the sampler (same seed, same output)
 * @param stopStrings       stop when the generated text contains any of these (the text ends before it)
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, double minP,
                             double repetitionPenalty, long seed, List<String> stopStrings) {

    public SamplingParams {
        if (maxNewTokens < 0) throw new InvalidInputException("max new tokens must be >= 0, got " + maxNewTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new InvalidInputException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) throw new InvalidInputException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new InvalidInputException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new InvalidInputException("min-p must be in [0, 1], got " + minP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new InvalidInputException("repetition penalty must be > 0, got " + repetitionPenalty);
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new InvalidInputException("a stop string is empty");
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0, 0, 1, 0, 1, 0, List.of());
    }

    /** True when every token is the argmax. */
    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(n, temperature, topK, topP, minP, repetitionPenalty, seed, stopStrings);
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(maxNewTokens, t, topK, topP, minP, repetitionPenalty, seed, stopStrings);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(maxNewTokens, temperature, k, topP, minP, repetitionPenalty, seed, stopStrings);
    }

    public SamplingParams withTopP(double p) {
        return new SamplingParams(maxNewTokens, temperature, topK, p, minP, repetitionPenalty, seed, stopStrings);
    }

    public SamplingParams withMinP(double p) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, p, repetitionPenalty, seed, stopStrings);
    }

    public SamplingParams withRepetitionPenalty(double penalty) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, minP, penalty, seed, stopStrings);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, minP, repetitionPenalty, s, stopStrings);
    }

    public SamplingParams withStopStrings(List<String> stops) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, minP, repetitionPenalty, seed, stops);
    }
}
