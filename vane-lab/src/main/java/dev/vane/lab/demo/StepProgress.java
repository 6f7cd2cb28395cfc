package dev.vane.lab.demo;

import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * How a demo step reports its progress: the number of units (generations, sequences, probes) once known, then
 * the number done. The command line shows it as progress on stderr.
 *
 * <pre>{@code
 * progress.total(scales.size() * prompts.size());
 * eval.evaluate(prompts, prefill, steering, params, progress.from(doneBefore));
 * }</pre>
 */
public interface StepProgress {
    /** Ignores everything. */
    StepProgress NONE = new StepProgress() {
        @Override
        public void total(long units) {
        }

        @Override
        public void done(long units) {
        }
    };

    /** The step has {@code units} units in all. */
    void total(long units);

    /** {@code units} units of the step are done. */
    void done(long units);

    /** A "done so far" callback for a job that starts after {@code before} units of the step. */
    default IntConsumer from(long before) {
        return d -> done(before + d);
    }

    /** A callback told once per unit (the label is ignored), counting from {@code before}. */
    default Consumer<String> counting(long before) {
        long[] count = {before};
        return label -> done(++count[0]);
    }
}
