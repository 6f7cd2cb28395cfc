package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.FluencyScorer;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;

/**
 * The three-way judge in a job's setup: the keyword refusal judge's phrases ({@code "judge"}) and the degenerate rule
 * calibrated in the driver ({@code "rule"}), so that every executor judges as the driver would. Only the keyword judge
 * travels: an LLM judge would be a call from every executor to an endpoint, which {@code vane judge} makes afterwards.
 *
 * <pre>{@code
 * JudgeSetup.put(setup, KeywordRefusalJudge.defaults(), calibration.rule());
 * OutcomeJudge outcomes = JudgeSetup.outcomes(setup, model);     // on an executor
 * }</pre>
 */
public final class JudgeSetup {
    private JudgeSetup() {
    }

    /** Adds {@code judge} and {@code rule} to {@code setup}. */
    public static ObjectNode put(ObjectNode setup, Judge judge, DegenerateRule rule) {
        if (!(judge instanceof KeywordRefusalJudge keyword)) {
            throw new InvalidInputException("--spark: work on a cluster is judged with the keyword refusal judge only, not "
                    + judge.name());
        }
        setup.set("judge", keyword.json());
        setup.set("rule", rule.json());
        return setup;
    }

    /** The keyword judge of a setup {@link #put} wrote. */
    public static KeywordRefusalJudge judge(JsonNode setup) {
        return KeywordRefusalJudge.fromJson(setup.get("judge"));
    }

    /** The degenerate rule of a setup {@link #put} wrote. */
    public static DegenerateRule rule(JsonNode setup) {
        return DegenerateRule.fromJson(setup.get("rule"));
    }

    /** The three-way judge of a setup {@link #put} wrote, the fluency scored under {@code model}. */
    public static OutcomeJudge outcomes(JsonNode setup, Model model) {
        return new OutcomeJudge(judge(setup), new FluencyScorer(model), rule(setup));
    }
}
