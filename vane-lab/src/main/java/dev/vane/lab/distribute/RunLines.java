package dev.vane.lab.distribute;

import dev.vane.lab.run.ResultsLog;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes the lines of a job's work into its run directory's logs, each id once: a task that ran again after its
 * machine was lost, or twice at once, hands back lines already written, and those are dropped, so a run never
 * records an item twice. Each line written is then passed on (progress, listeners).
 *
 * <pre>{@code
 * executor.execute(work, new RunLines(run.results()).then(line -> progress.step(line.id())));
 * }</pre>
 */
public final class RunLines implements Consumer<WorkLine> {
    private final Map<String, ResultsLog> logs = new LinkedHashMap<>();
    private Consumer<WorkLine> then = line -> { };
    private int dropped;

    /** Lines for {@code results.jsonl} go to {@code results}. */
    public RunLines(ResultsLog results) {
        logs.put(WorkLine.RESULTS, results);
    }

    /** Lines for the log named {@code file} go to {@code log}. */
    public RunLines with(String file, ResultsLog log) {
        logs.put(file, log);
        return this;
    }

    /** Also hands every line written to {@code next}. */
    public RunLines then(Consumer<WorkLine> next) {
        Consumer<WorkLine> before = then;
        then = line -> {
            before.accept(line);
            next.accept(line);
        };
        return this;
    }

    @Override
    public void accept(WorkLine line) {
        ResultsLog log = logs.get(line.log());
        if (log == null) throw new IllegalStateException("a worker wrote to " + line.log() + ", which this run does not keep");
        if (log.isDone(line.id())) {
            dropped++;
            return;
        }
        log.append(line.line());
        then.accept(line);
    }

    /** Lines dropped because their id was already written. */
    public int dropped() {
        return dropped;
    }
}
