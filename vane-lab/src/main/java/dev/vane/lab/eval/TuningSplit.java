package dev.vane.lab.eval;

import dev.vane.lab.data.Request;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Requests split in two: a tuning half that choices (a scale, a threshold) are made on, and a report half that the
 * chosen setting's figures are reported on, so no reported figure fed the choice it reports. Requests that share a
 * task (phrasings of one request) stay on one side, so the report half asks about tasks the choice never saw: tasks
 * in order of first appearance alternate, the first to tuning. Requests without a task alternate one by one.
 *
 * <pre>{@code
 * TuningSplit s = TuningSplit.byTask(requests);
 * s.tuning();     // tasks 1, 3, 5, ... (all their phrasings)
 * s.report();     // tasks 2, 4, 6, ...
 * }</pre>
 *
 * @param tuning the requests choices are made on
 * @param report the requests figures are reported on
 */
public record TuningSplit(List<Request> tuning, List<Request> report) {
    public TuningSplit {
        tuning = List.copyOf(tuning);
        report = List.copyOf(report);
    }

    /** Splits {@code requests} by task (alternating tasks; alternating rows for requests without one). */
    public static TuningSplit byTask(List<Request> requests) {
        Map<String, Integer> taskIndex = new LinkedHashMap<>();
        List<Request> tuning = new ArrayList<>(), report = new ArrayList<>();
        int untasked = 0;
        for (Request r : requests) {
            int index = r.task().isEmpty() ? untasked++ : taskIndex.computeIfAbsent(r.task(), t -> taskIndex.size());
            (index % 2 == 0 ? tuning : report).add(r);
        }
        return new TuningSplit(tuning, report);
    }

    /** The prompts of {@code requests}. */
    public static List<String> prompts(List<Request> requests) {
        return requests.stream().map(Request::prompt).toList();
    }
}
