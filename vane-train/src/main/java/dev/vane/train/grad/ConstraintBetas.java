package dev.vane.train.grad;

import dev.vane.core.InvalidInputException;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The beta of the token-wise constrained objective by position in the response: {@code beta(0)} for the first
 * response token, {@code beta(1)} for the second, and so on; the last value given holds for every later token.
 * A large beta holds that token's probability close to the reference model's; a small one lets it move.
 *
 * <p>{@link #paper()} is Qi et al.'s setting (their code's {@code beta = 0.1}, {@code first_token_bias_factor = 5},
 * {@code bias_factor = 20}, {@code bias_length = 5}): 0.5 on the first token, 2.0 on tokens 2 to 5, 0.1 after. The
 * first token gets less than the next four because its loss starts high and the sigmoid would saturate at once.
 *
 * <pre>{@code
 * ConstraintBetas b = ConstraintBetas.paper();
 * b.beta(0);    // 0.5
 * b.beta(4);    // 2.0
 * b.beta(37);   // 0.1
 * ConstraintBetas.parse("0.5,2,2,2,2,0.1").equals(b);   // true
 * }</pre>
 *
 * @param values betas of response tokens 1, 2, ...; the last repeats
 */
public record ConstraintBetas(List<Double> values) {
    public ConstraintBetas {
        if (values.isEmpty()) throw new InvalidInputException("the constrained objective needs at least one beta");
        for (double b : values) {
            if (!(b > 0) || Double.isInfinite(b)) {
                throw new InvalidInputException("betas of the constrained objective must be finite and > 0, got " + b);
            }
        }
        values = List.copyOf(values);
    }

    /** Qi et al.'s betas: 0.5, 2, 2, 2, 2, then 0.1. */
    public static ConstraintBetas paper() {
        return of(0.5, 2, 2, 2, 2, 0.1);
    }

    public static ConstraintBetas of(double... values) {
        return new ConstraintBetas(Arrays.stream(values).boxed().toList());
    }

    /** A comma-separated list, as {@code --betas} takes it: {@code "0.5,2,2,2,2,0.1"}. */
    public static ConstraintBetas parse(String text) {
        try {
            return of(Arrays.stream(text.split(",")).map(String::strip).mapToDouble(Double::parseDouble).toArray());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--betas takes numbers separated by commas (beta of response token 1, 2, ...; "
                    + "the last for every later token), got \"" + text + "\"");
        }
    }

    /** The beta of the response token at 0-based {@code position}. */
    public double beta(int position) {
        if (position < 0) throw new IllegalArgumentException("position must be >= 0, got " + position);
        return values.get(Math.min(position, values.size() - 1));
    }

    /** The list as {@link #parse} reads it. */
    @Override
    public String toString() {
        return values.stream().map(v -> v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf(v.longValue()) : String.valueOf(v))
                .collect(Collectors.joining(","));
    }
}
