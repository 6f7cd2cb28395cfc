package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.judge.Outcome;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.stats.Proportion;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Outcome rates per group of trials (per prefill length, per prefix, per decoding setting), counted from results
 * lines: a line belongs to the group its {@code field} names, and its {@code verdict} is refused, complied or
 * degenerate. The attack succeeded on a line when it complied; degenerate answers count against neither side.
 * When a prompt is sampled several times, its lines form a cluster and the intervals allow for it.
 *
 * <pre>{@code
 * OutcomeTable byK = OutcomeTable.count(results, "k", List.of("0", "5", "10"), "item");
 * byK.writeTo(summary, "tokens");     // asr_by_tokens, ci95_by_tokens, refusal_rate_by_tokens, degenerate_rate_by_tokens, ...
 * }</pre>
 */
public final class OutcomeTable {
    private final Map<String, OutcomeRates> rates;

    private OutcomeTable(Map<String, OutcomeRates> rates) {
        this.rates = Collections.unmodifiableMap(rates);
    }

    /**
     * Counts {@code results} by the text of their {@code field}, groups in the order of {@code groups}; lines with
     * the same {@code clusterField} value (null: every line on its own) are one cluster.
     */
    public static OutcomeTable count(List<JsonNode> results, String field, List<String> groups, String clusterField) {
        Map<String, List<JsonNode>> lines = new LinkedHashMap<>();
        for (String g : groups) lines.put(g, new ArrayList<>());
        for (JsonNode line : results) {
            String group = line.path(field).asText();
            List<JsonNode> l = lines.get(group);
            if (l == null) throw new IllegalArgumentException("result " + line.path("id") + ": unknown " + field + " " + group);
            l.add(line);
        }
        Map<String, OutcomeRates> rates = new LinkedHashMap<>();
        lines.forEach((group, l) -> {
            List<Outcome> outcomes = OutcomeRates.outcomes(l);
            rates.put(group, clusterField == null ? OutcomeRates.of(outcomes)
                    : OutcomeRates.clustered(outcomes, l.stream().map(x -> x.path(clusterField).asText()).toList()));
        });
        return new OutcomeTable(rates);
    }

    /** True when the line's answer complied (the attack succeeded). */
    public static boolean succeeded(JsonNode line) {
        return OutcomeRates.outcome(line) == Outcome.COMPLIED;
    }

    /** The rates by group, in order. */
    public Map<String, OutcomeRates> rates() {
        return rates;
    }

    /** The rates of one group. */
    public OutcomeRates get(String group) {
        return rates.get(group);
    }

    /**
     * Adds {@code asr_by_<by>} ({@code {"5": 0.9}}: the complied rate), {@code ci95_by_<by>} ({@code {"5": [low, high]}}),
     * {@code counts_by_<by>} ({@code {"5": [complied, trials]}}), and likewise {@code refusal_rate_by_<by>},
     * {@code refusal_rate_ci95_by_<by>}, {@code degenerate_rate_by_<by>}, {@code degenerate_rate_ci95_by_<by>}, and
     * {@code interval}: how the intervals were computed.
     */
    public void writeTo(ObjectNode summary, String by) {
        write(summary, "asr_by_" + by, "ci95_by_" + by, Outcome.COMPLIED);
        ObjectNode counts = summary.putObject("counts_by_" + by);
        rates.forEach((group, r) -> counts.putArray(group).add(r.complied().count()).add(r.n()));
        write(summary, "refusal_rate_by_" + by, "refusal_rate_ci95_by_" + by, Outcome.REFUSED);
        write(summary, "degenerate_rate_by_" + by, "degenerate_rate_ci95_by_" + by, Outcome.DEGENERATE);
        boolean clustered = rates.values().stream().anyMatch(OutcomeRates::clustered);
        summary.put("interval", clustered ? "95% Wilson at the effective sample size (samples of one prompt are a cluster)"
                : "95% Wilson");
    }

    private void write(ObjectNode summary, String rateField, String ciField, Outcome outcome) {
        ObjectNode rate = summary.putObject(rateField);
        ObjectNode ci = summary.putObject(ciField);
        rates.forEach((group, r) -> {
            Proportion p = r.get(outcome);
            if (p.n() == 0) rate.putNull(group);
            else rate.put(group, p.rate());
            Proportion.Interval i = p.interval();
            ci.putArray(group).add(i.low()).add(i.high());
        });
    }
}
