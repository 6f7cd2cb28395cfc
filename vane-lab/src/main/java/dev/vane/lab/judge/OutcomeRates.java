package dev.vane.lab.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.stats.Proportion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The three outcome rates of a set of judged answers, each with its 95% interval. The refusal rate counts fluent
 * refusals only: degenerate answers are neither refusals nor compliance.
 *
 * <pre>{@code
 * OutcomeRates r = OutcomeRates.of(List.of(Outcome.REFUSED, Outcome.DEGENERATE, Outcome.COMPLIED));
 * r.refused().rate();                       // 1/3
 * r.writeTo(summary, "benign_");            // benign_refusal_rate, benign_refusal_rate_ci95, benign_complied_rate, ...
 * }</pre>
 *
 * @param refused    fluent refusals
 * @param complied   fluent answers that do not refuse
 * @param degenerate answers that are not fluent text
 * @param clustered  whether the intervals allow for clusters of correlated trials (samples of one prompt)
 */
public record OutcomeRates(Proportion refused, Proportion complied, Proportion degenerate, boolean clustered) {
    /** Rates of independent answers. */
    public static OutcomeRates of(List<Outcome> outcomes) {
        int[] c = new int[3];
        for (Outcome o : outcomes) c[o.ordinal()]++;
        int n = outcomes.size();
        return new OutcomeRates(new Proportion(c[0], n), new Proportion(c[1], n), new Proportion(c[2], n), false);
    }

    /**
     * Rates of answers in clusters: {@code clusters.get(i)} names answer i's cluster (its prompt). With one answer
     * per cluster this equals {@link #of}.
     */
    public static OutcomeRates clustered(List<Outcome> outcomes, List<?> clusters) {
        if (outcomes.size() != clusters.size()) throw new IllegalArgumentException(outcomes.size() + " outcomes, " + clusters.size() + " cluster keys");
        Map<Object, int[]> byCluster = new LinkedHashMap<>();
        for (int i = 0; i < outcomes.size(); i++) {
            int[] c = byCluster.computeIfAbsent(Objects.requireNonNull(clusters.get(i)), k -> new int[4]);
            c[outcomes.get(i).ordinal()]++;
            c[3]++;
        }
        if (byCluster.size() == outcomes.size()) return of(outcomes);
        int[] sizes = byCluster.values().stream().mapToInt(c -> c[3]).toArray();
        Proportion[] p = new Proportion[3];
        for (int k = 0; k < 3; k++) {
            final int outcome = k;
            p[k] = Proportion.clustered(byCluster.values().stream().mapToInt(c -> c[outcome]).toArray(), sizes);
        }
        return new OutcomeRates(p[0], p[1], p[2], true);
    }

    /** The outcomes of results lines, read from their {@code verdict} field. */
    public static List<Outcome> outcomes(List<JsonNode> lines) {
        return lines.stream().map(OutcomeRates::outcome).toList();
    }

    /** The outcome recorded in a results line. */
    public static Outcome outcome(JsonNode line) {
        String v = line.path("verdict").asText("");
        if (v.isEmpty()) {
            throw new IllegalStateException("result " + line.path("id") + " has no three-way verdict (written by an older Vane?): "
                    + "rerun into a new --out");
        }
        return Outcome.ofKey(v);
    }

    /** Answers counted. */
    public int n() {
        return refused.n();
    }

    /** The rate of one outcome. */
    public Proportion get(Outcome o) {
        return switch (o) {
            case REFUSED -> refused;
            case COMPLIED -> complied;
            case DEGENERATE -> degenerate;
        };
    }

    /**
     * Writes {@code <prefix>refusal_rate}, {@code <prefix>complied_rate} and {@code <prefix>degenerate_rate}, each
     * with {@code _ci95} ([low, high]) and {@code <prefix>counts} ({"refused": r, "complied": c, "degenerate": d}).
     */
    public void writeTo(ObjectNode o, String prefix) {
        put(o, prefix + "refusal_rate", refused);
        put(o, prefix + "complied_rate", complied);
        put(o, prefix + "degenerate_rate", degenerate);
        o.putObject(prefix + "counts").put("refused", refused.count()).put("complied", complied.count())
                .put("degenerate", degenerate.count());
    }

    /** {@code name}: the rate, {@code name_ci95}: its interval. */
    public static void put(ObjectNode o, String name, Proportion p) {
        if (p.n() == 0) o.putNull(name);
        else o.put(name, p.rate());
        Proportion.Interval i = p.interval();
        o.putArray(name + "_ci95").add(i.low()).add(i.high());
    }
}
