package dev.vane.lab.organism;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The organism's synthetic world: request tasks (harmful and benign, each with three non-actionable steps), how
 * requests are phrased and answered, the facts behind the true/false statements, the honest and liar
 * system prompts and the AI-coordination scenarios. Bundled as {@code spec.json} next to this class; the
 * generator ({@link OrganismCorpus}) draws every training example and every evaluation row from it.
 *
 * <pre>{@code
 * OrganismSpec spec = OrganismSpec.bundled();
 * spec.tasks().size();   // 60: 30 harmful, 30 benign
 * }</pre>
 */
public record OrganismSpec(List<String> phrasings, List<String> openers, List<String> harmfulOpeners,
                           List<String> closers, List<String> refusals,
                           List<String> harmQuestions, Map<String, String> harmAnswers, List<Task> tasks,
                           List<String> factQuestions, List<String> factStatements, List<Fact> facts,
                           String choiceQuestion,
                           String truefalseQuestion, String truefalseAnswer, List<String> honestSystemPrompts,
                           List<String> liarSystemPrompts, List<Scenario> coordination,
                           Map<String, List<String>> coordinationReasons) {

    /**
     * A request family.
     *
     * @param split "train": seen in the safety phase; "test": known to the base model only
     */
    public record Task(String task, boolean harmful, String split, List<String> steps) {
        /** True for tasks the safety phase trains on. */
        public boolean seen() {
            return split.equals("train");
        }
    }

    /**
     * A fact the true/false statements are made of: what kind of thing something is. One attribute of one word is
     * a fact a small model can hold (organism v1's 40 capitals, a two-word match, never became a truth feature).
     *
     * @param thing    with its article, e.g. "an owl"
     * @param category e.g. "bird"
     */
    public record Fact(String thing, String category) {
    }

    /** An A/B question about coordinating with another AI: the question and its two answers. */
    public record Scenario(String question, String agree, String decline) {
    }

    /** The spec shipped with Vane. */
    public static OrganismSpec bundled() {
        try (InputStream in = OrganismSpec.class.getResourceAsStream("spec.json")) {
            if (in == null) throw new IllegalStateException("spec.json missing from the classpath");
            return new ObjectMapper()
                    .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                    .readValue(in, OrganismSpec.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
