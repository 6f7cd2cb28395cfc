package dev.vane.lab.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.generate.TokenListener;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;

import java.util.ArrayList;
import java.util.List;

/**
 * Calibrates the {@link DegenerateRule} on the intact model's own answers: it samples one answer per calibration
 * prompt from the model with no steering, at temperature 1 (the model's own distribution, not its most likely
 * path: greedy answers would set the bar too high for sampled ones), scores their fluency and sets the threshold
 * from them. In a run directory the calibration is one results line ({@code "id": "calibration"}) holding the
 * rule and every answer's score, so a resumed run judges with the same rule and the threshold can be re-derived.
 *
 * <pre>{@code
 * DegenerateRule rule = DegenerateCalibration.inRun(run, model, tokenizer, chatPrompts, 48, 0).rule();
 * }</pre>
 *
 * @param rule    the calibrated rule
 * @param answers the calibration answers' texts
 * @param scores  their fluency under the intact model
 */
public record DegenerateCalibration(DegenerateRule rule, List<String> answers, List<Fluency> scores) {
    /** The results-line id of a stored calibration. */
    public static final String ID = "calibration";
    /** Answers sampled per call. */
    private static final int BATCH = 16;

    /** Samples and scores the intact model's answers to {@code chatPrompts} (templated ids, assistant turn open). */
    public static DegenerateCalibration measure(Model model, Tokenizer tokenizer, List<int[]> chatPrompts, int maxTokens, long seed) {
        Generator generator = new Generator(model, tokenizer);
        SamplingParams params = SamplingParams.greedy(maxTokens).withTemperature(1.0).withSeed(seed);
        List<String> texts = new ArrayList<>();
        List<int[]> generated = new ArrayList<>();
        for (int from = 0; from < chatPrompts.size(); from += BATCH) {
            List<int[]> chunk = chatPrompts.subList(from, Math.min(chatPrompts.size(), from + BATCH));
            for (Completion c : generator.generate(chunk, params.withSeed(seed + from), Hooks.none(), TokenListener.none())) {
                texts.add(c.text());
                generated.add(c.tokenIds());
            }
        }
        List<Fluency> scores = new FluencyScorer(model).score(chatPrompts, generated);
        return new DegenerateCalibration(DegenerateRule.calibrate(scores), texts, scores);
    }

    /** The calibration stored in {@code run}'s results, or a new one measured and appended there. */
    public static DegenerateCalibration inRun(RunDirectory run, Model model, Tokenizer tokenizer, List<int[]> chatPrompts,
                                              int maxTokens, long seed) {
        ResultsLog log = run.results();
        if (log.isDone(ID)) return fromJson(log.get(ID));
        DegenerateCalibration c = measure(model, tokenizer, chatPrompts, maxTokens, seed);
        log.append(c.json());
        return c;
    }

    /** The results line: id, rule, seed-free description of each answer (text, mean log-prob, repetition). */
    public ObjectNode json() {
        ObjectNode o = RunDirectory.object().put("id", ID);
        o.set("rule", rule.json());
        ArrayNode a = o.putArray("answers");
        for (int i = 0; i < answers.size(); i++) {
            Fluency f = scores.get(i);
            a.addObject().put("text", answers.get(i)).put("mean_logprob", f.meanLogProb()).put("tokens", f.tokens())
                    .put("repetition", f.repetition());
        }
        return o;
    }

    /** A calibration read back from its results line. */
    public static DegenerateCalibration fromJson(JsonNode line) {
        List<String> texts = new ArrayList<>();
        List<Fluency> scores = new ArrayList<>();
        for (JsonNode a : line.path("answers")) {
            texts.add(a.path("text").asText());
            scores.add(new Fluency(a.path("mean_logprob").asDouble(), a.path("tokens").asInt(), a.path("repetition").asDouble()));
        }
        return new DegenerateCalibration(DegenerateRule.fromJson(line.path("rule")), texts, scores);
    }
}
