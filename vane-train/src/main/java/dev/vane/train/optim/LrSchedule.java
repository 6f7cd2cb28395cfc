package dev.vane.train.optim;

import dev.vane.core.InvalidInputException;

import java.util.Locale;

/**
 * The learning rate of each optimiser step: a linear warm-up from 0 over {@code warmupSteps}, then a cosine or
 * linear decay to 0 at {@code totalSteps}, or a constant rate. The factors are those of transformers'
 * {@code get_cosine_schedule_with_warmup} (num_cycles 0.5), {@code get_linear_schedule_with_warmup} and
 * {@code get_constant_schedule_with_warmup}, with {@code s} the number of optimiser steps taken before this one
 * (0 for the first step, as transformers' {@code LambdaLR} gives the first step the factor of 0), {@code w} the
 * warm-up steps and {@code T} the total steps:
 * <pre>
 *   s &lt; w:      factor = s / max(1, w)
 *   cosine:     factor = max(0, 0.5 * (1 + cos(pi * p)))      with p = (s - w) / max(1, T - w)
 *   linear:     factor = max(0, (T - s) / max(1, T - w))
 *   constant:   factor = 1
 *   lr(s) = peak * factor
 * </pre>
 * So with warm-up the first step has learning rate 0 (as in transformers' Trainer), the peak is reached at step
 * {@code w}, and cosine and linear reach 0 at step {@code T} (which is never taken: the last step is T - 1).
 * Past {@code T} the cosine factor rises again, as transformers' does; the linear one stays 0.
 *
 * <pre>{@code
 * LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, 2e-4, 10, 100);
 * schedule.lr(0);    // 0
 * schedule.lr(10);   // 2e-4
 * schedule.lr(55);   // 1e-4
 * }</pre>
 *
 * @param kind        cosine, linear or constant after the warm-up
 * @param peak        the learning rate after the warm-up
 * @param warmupSteps steps of linear warm-up from 0 (0 = none)
 * @param totalSteps  optimiser steps of the whole run (where cosine and linear reach 0)
 */
public record LrSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {
    /** What follows the warm-up. */
    public enum Kind {
        COSINE, LINEAR, CONSTANT;

        /** {@code cosine}, {@code linear} or {@code constant} (ignoring case), as {@code --schedule} takes it. */
        public static Kind parse(String text) {
            try {
                return valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("unknown learning-rate schedule \"" + text
                        + "\" (cosine, linear or constant)");
            }
        }

        /** The name {@link #parse} reads. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public LrSchedule {
        java.util.Objects.requireNonNull(kind, "kind");
        if (!(peak >= 0) || Double.isInfinite(peak)) throw new InvalidInputException("learning rate must be finite and >= 0, got " + peak);
        if (warmupSteps < 0) throw new InvalidInputException("warm-up steps must be >= 0, got " + warmupSteps);
        if (totalSteps < 1) throw new InvalidInputException("total steps must be >= 1, got " + totalSteps);
    }

    /** The learning rate of the step taken after {@code step} steps (0-based step number). */
    public double lr(long step) {
        return peak * factor(step);
    }

    /** The multiplier of {@link #peak} at {@code step}. */
    public double factor(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        if (step < warmupSteps) return (double) step / Math.max(1, warmupSteps);
        return switch (kind) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 2.0 * 0.5 * progress)));
            }
        };
    }
}
