package dev.vane.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.tree.Node;

import java.util.function.BiConsumer;

/**
 * A cap on the work of one render, counted in template nodes rendered (text, expressions, tags; each loop
 * iteration counts its body again) plus loop iterations. Output size and recursion have their own caps in
 * jinjava's config, but three nested loops over {@code range(1000)} print nothing and still run a billion times;
 * this stops them.
 *
 * <p>jinjava calls the pre-processor before every node, and {@link LoopFilterForTag} charges each loop's length
 * before it runs. The count lives in a thread-local because a render runs on the calling thread from start to
 * end, and {@link #run} sets and clears it around each render.
 *
 * <pre>{@code
 * JinjavaConfig.newBuilder().withProcessors(JinjavaProcessors.newBuilder()
 *         .withNodePreProcessor(RenderBudget.CHECK).build())
 * String out = RenderBudget.run(1_000_000, () -> jinjava.renderForResult(source, vars));
 * }</pre>
 */
final class RenderBudget {
    /** Thrown when a render uses up its budget; it aborts the render (jinjava lets it through its node loop). */
    static final class Exhausted extends RuntimeException {
        Exhausted(long steps) {
            super("the template did more than " + steps + " steps of work (a runaway loop?)", null, false, false);
        }
    }

    private static final ThreadLocal<long[]> REMAINING = new ThreadLocal<>();

    /** The node pre-processor to install in the jinjava config. */
    static final BiConsumer<Node, JinjavaInterpreter> CHECK = (node, interpreter) -> charge(1);

    /** Takes {@code units} of work from the current render's budget (nothing outside {@link #run}). */
    static void charge(long units) {
        long[] remaining = REMAINING.get();
        if (remaining == null) return;
        remaining[1] -= units;
        if (remaining[1] < 0) throw new Exhausted(remaining[0]);
    }

    private RenderBudget() {
    }

    /** Runs {@code render} with at most {@code steps} steps of work on this thread. */
    static <T> T run(long steps, java.util.function.Supplier<T> render) {
        long[] previous = REMAINING.get();
        REMAINING.set(new long[]{steps, steps});
        try {
            return render.get();
        } finally {
            if (previous == null) REMAINING.remove();
            else REMAINING.set(previous);
        }
    }
}
