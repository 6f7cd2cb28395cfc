package dev.vane.lab.align;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * A model's own answers to requests, as the deep-alignment data needs them (the refusal r of a safety-recovery
 * triple, the utility anchors' answers, the benign answers of identity-shifting and backdoor data): each request
 * goes alone into the chat template, the model answers greedily, and the keyword judge says whether it refused
 * ({@link RefusalEvaluation}). Every answer is appended to a results log as its batch finishes, with the id
 * {@code <kind>-<i>} (i over the distinct prompts, in order), so a job killed while generating resumes with the
 * answers it has.
 *
 * <pre>{@code
 * RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, KeywordRefusalJudge.defaults(),
 *         RefusalEvaluation.calibrate(model, tokenizer, prompts, 128));
 * List<ModelAnswers.Answer> refusals = ModelAnswers.of(eval, prompts, "refusal", run.results(),
 *         SamplingParams.greedy(128), 16, done -> { });
 * }</pre>
 */
public final class ModelAnswers {
    /** One request and the model's answer to it. */
    public record Answer(String prompt, String response, boolean refused, boolean degenerate) {
        /** A fluent answer. */
        public Answer(String prompt, String response, boolean refused) {
            this(prompt, response, refused, false);
        }
    }

    private ModelAnswers() {
    }

    /**
     * The answers to the distinct prompts of {@code prompts} (in first-seen order), generated where {@code log}
     * does not have them yet.
     *
     * @param progress told the number of answers done so far, after each batch
     */
    public static List<Answer> of(RefusalEvaluation eval, List<String> prompts, String kind, ResultsLog log,
                                  SamplingParams params, int batchSize, IntConsumer progress) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(prompts));
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < distinct.size(); i++) if (!log.isDone(kind + "-" + i)) pending.add(i);
        int done = distinct.size() - pending.size();
        for (int from = 0; from < pending.size(); from += batchSize) {
            List<Integer> chunk = pending.subList(from, Math.min(pending.size(), from + batchSize));
            List<RefusalEvaluation.Item> items = eval.evaluate(chunk.stream().map(distinct::get).toList(), null,
                    Steering.none(), params, n -> { }).items();
            for (int j = 0; j < chunk.size(); j++) {
                RefusalEvaluation.Item item = items.get(j);
                ObjectNode line = RunDirectory.object();
                line.put("id", kind + "-" + chunk.get(j));
                line.put("kind", kind);
                line.put("prompt", item.prompt());
                line.put("response", item.response());
                line.put("refused", item.refused());
                line.put("verdict", item.outcome().key());
                log.append(line);
            }
            done += chunk.size();
            progress.accept(done);
        }
        List<Answer> out = new ArrayList<>();
        for (int i = 0; i < distinct.size(); i++) {
            JsonNode line = log.get(kind + "-" + i);
            if (!line.path("prompt").asText().equals(distinct.get(i))) {
                throw new IllegalStateException(log.path() + ": " + kind + "-" + i + " answers another prompt");
            }
            out.add(new Answer(distinct.get(i), line.path("response").asText(), line.path("refused").asBoolean(),
                    line.path("verdict").asText().equals("degenerate")));
        }
        return out;
    }
}
