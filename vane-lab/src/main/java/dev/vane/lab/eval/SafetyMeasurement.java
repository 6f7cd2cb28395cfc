package dev.vane.lab.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.data.Request;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.stats.Proportion;
import dev.vane.lab.steer.Steering;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * One point of a safety-utility curve: harmful requests (attacked with a prefill or not) and, optionally, benign
 * requests, answered under one steering and judged three ways; on benign requests with known steps, the utility
 * ({@link TaskUtility}); on harmful requests with known steps, the harmful content (answers that comply and state
 * the task's steps: a fluent answer about something else is an ASR success for the keyword judge, not content). Its {@link #json()} is the results line every refusal sweep writes.
 *
 * <pre>{@code
 * SafetyMeasurement m = SafetyMeasurement.measure(eval, harmful, "Sure, here is", benign, steering,
 *         SamplingParams.greedy(48), done -> {});
 * m.harmful().rates().complied().rate();     // ASR: fluent answers that do not refuse
 * m.utility().rate();                        // benign answers that state their task's steps
 * }</pre>
 *
 * @param harmful the harmful requests' answers
 * @param benign  the benign requests' answers, or null when none were given
 * @param utility        benign answers that state their task's steps, over the benign requests that have steps
 *                       ({@link Proportion#none()} when none has)
 * @param truncatedShort benign answers with steps that stopped at the token limit without stating them all
 * @param content        harmful answers that comply and state their task's steps, over the harmful requests with steps
 */
public record SafetyMeasurement(RefusalEvaluation.Result harmful, RefusalEvaluation.Result benign, Proportion utility,
                                int truncatedShort, Proportion content) {

    /** Answers {@code harmful} (after {@code prefill}) and {@code benign} (may be null) under {@code steering}. */
    public static SafetyMeasurement measure(RefusalEvaluation eval, List<Request> harmful, String prefill, List<Request> benign,
                                            Steering steering, SamplingParams params, IntConsumer progress) {
        RefusalEvaluation.Result h = eval.evaluate(harmful.stream().map(Request::prompt).toList(), prefill, steering, params, progress);
        Proportion content = utility(h, harmful);
        if (benign == null) return new SafetyMeasurement(h, null, Proportion.none(), 0, content);
        RefusalEvaluation.Result b = eval.evaluate(benign.stream().map(Request::prompt).toList(), "", steering, params,
                d -> progress.accept(harmful.size() + d));
        int truncatedShort = 0;
        for (int i = 0; i < benign.size(); i++) {
            RefusalEvaluation.Item item = b.items().get(i);
            List<String> steps = benign.get(i).steps();
            if (item.truncated() && !steps.isEmpty() && !TaskUtility.states(item.response(), steps)) truncatedShort++;
        }
        return new SafetyMeasurement(h, b, utility(b, benign), truncatedShort, content);
    }

    /** The utility of benign answers {@code b} to {@code requests} (on harmful requests: the harmful content). */
    public static Proportion utility(RefusalEvaluation.Result b, List<Request> requests) {
        return TaskUtility.of(b.outcomes(), b.responses(), requests.stream().map(Request::steps).toList());
    }

    /**
     * The results line: {@code n}, {@code refusal_rate}, {@code complied_rate}, {@code degenerate_rate} (each with
     * {@code _ci95}), {@code asr} (= complied_rate, with {@code asr_ci95}), {@code counts}, {@code responses}; with benign requests the
     * same with {@code benign_} in front, and {@code benign_utility} with {@code benign_utility_ci95} and
     * {@code benign_utility_n} (null when no benign request has steps), and {@code benign_truncated}: benign answers
     * that were cut at the token limit before stating all their steps. When harmful requests have steps, also
     * {@code content_rate} (with {@code content_rate_ci95}, {@code content_n}): answers that comply and state their
     * task's steps. Under gated steering also
     * {@code gate_fired_rate} (and {@code benign_gate_fired_rate}): the requests a gate steered, and per response
     * {@code gates}: each gated term's probability, decision and applied scale.
     */
    public ObjectNode json() {
        ObjectNode row = RunDirectory.object().put("n", harmful.n());
        harmful.rates().writeTo(row, "");
        OutcomeRates.put(row, "asr", harmful.rates().complied());
        if (content.n() > 0) {
            OutcomeRates.put(row, "content_rate", content);
            row.put("content_n", content.n());
        }
        if (benign != null) {
            row.put("benign_n", benign.n());
            benign.rates().writeTo(row, "benign_");
            OutcomeRates.put(row, "benign_utility", utility);
            row.put("benign_utility_n", utility.n());
            // An answer cut at the token limit may not have reached its last step: said, so a low utility is read right.
            row.put("benign_truncated", truncatedShort);
        }
        // Gated steering: how often the probe let the vector through, on harmful and on benign requests.
        if (!Double.isNaN(harmful.gateFiredRate())) row.put("gate_fired_rate", harmful.gateFiredRate());
        if (benign != null && !Double.isNaN(benign.gateFiredRate())) row.put("benign_gate_fired_rate", benign.gateFiredRate());
        row.set("responses", responses(harmful));
        if (benign != null) row.set("benign_responses", responses(benign));
        return row;
    }

    /** Each answer of {@code r} as a results entry: prompt, response, verdict, fluency, gates. */
    public static ArrayNode responses(RefusalEvaluation.Result r) {
        ArrayNode a = RunDirectory.JSON.createArrayNode();
        r.items().forEach(i -> {
            ObjectNode o = a.addObject().put("prompt", i.prompt()).put("response", i.response()).put("truncated", i.truncated());
            o.put("verdict", i.outcome().key()).put("mean_logprob", Math.round(i.judged().fluency().meanLogProb() * 1e4) / 1e4)
                    .put("repetition", Math.round(i.judged().fluency().repetition() * 1e4) / 1e4)
                    .put("degenerate", i.judged().degenerate());
            if (!i.gates().isEmpty()) {
                ArrayNode gates = o.putArray("gates");
                i.gates().forEach(g -> gates.add(g.json()));
            }
        });
        return a;
    }

    /**
     * A sweep's rates side by side: for each of {@code fields}, the array of the rows' values (null where not
     * measured) and the array of their intervals ({@code <field>_ci95}), one entry per row, into {@code into}.
     */
    public static void columns(ObjectNode into, List<JsonNode> rows, List<String> fields) {
        for (String f : fields) {
            ArrayNode values = into.putArray(f), intervals = into.putArray(f + "_ci95");
            for (JsonNode r : rows) {
                values.add(r.get(f).deepCopy());
                intervals.add(r.get(f + "_ci95").deepCopy());
            }
        }
    }

    /** The rate {@code field} of a results line written by {@link #json()}, NaN when it is null. */
    public static double rate(JsonNode row, String field) {
        JsonNode v = row.path(field);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
