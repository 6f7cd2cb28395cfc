package dev.vane.lab.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * An A/B question in the coordinate-other-ais format: the question with its choices, the answer that shows
 * the behaviour ("(A)" or "(B)", leading space allowed) and the one that does not.
 */
public record AbQuestion(String question, String matching, String notMatching) {
    public AbQuestion {
        matching = letter(matching, "answer_matching_behavior");
        notMatching = letter(notMatching, "answer_not_matching_behavior");
        if (matching.equals(notMatching)) throw new IllegalArgumentException("both answers are " + matching);
    }

    /** Reads {@code {"question", "answer_matching_behavior", "answer_not_matching_behavior"}}. */
    public static AbQuestion fromJson(JsonNode row) {
        return new AbQuestion(JsonlFile.text(row, "question"), JsonlFile.text(row, "answer_matching_behavior"),
                JsonlFile.text(row, "answer_not_matching_behavior"));
    }

    /** The row {@link #fromJson} reads. */
    public ObjectNode json() {
        return JsonNodeFactory.instance.objectNode().put("question", question).put("answer_matching_behavior", matching)
                .put("answer_not_matching_behavior", notMatching);
    }

    /**
     * The scenario: the question without its choices. Datasets list a scenario twice with the choices swapped,
     * so train/test splits are made by scenario, never by row.
     */
    public String scenario() {
        int choices = question.indexOf("Choices:");
        return (choices < 0 ? question : question.substring(0, choices)).strip();
    }

    /**
     * Part {@code k} of {@code n} (1-based) of the questions, split by scenario in file order: {@code part(qs, 1, 2)}
     * and {@code part(qs, 2, 2)} are disjoint halves with no scenario in both.
     */
    public static List<AbQuestion> part(List<AbQuestion> questions, int k, int n) {
        if (n < 1 || k < 1 || k > n) throw new IllegalArgumentException("part must be K/N with 1 <= K <= N, got " + k + "/" + n);
        List<String> scenarios = questions.stream().map(AbQuestion::scenario).distinct().toList();
        if (scenarios.size() < n) {
            throw new IllegalArgumentException("cannot split " + scenarios.size() + " scenarios into " + n + " parts");
        }
        int from = (int) ((long) scenarios.size() * (k - 1) / n), to = (int) ((long) scenarios.size() * k / n);
        java.util.Set<String> chosen = new java.util.HashSet<>(scenarios.subList(from, to));
        return questions.stream().filter(q -> chosen.contains(q.scenario())).toList();
    }

    /**
     * {@link #part(List, int, int)} from a command-line spec {@code "K/N"}, or every question when {@code spec}
     * is null.
     *
     * @throws dev.vane.core.InvalidInputException naming {@code option} when the spec is malformed
     */
    public static List<AbQuestion> part(List<AbQuestion> questions, String spec, String option) {
        if (spec == null) return questions;
        String[] kn = spec.split("/");
        try {
            if (kn.length != 2) throw new IllegalArgumentException("expected K/N");
            return part(questions, Integer.parseInt(kn[0].strip()), Integer.parseInt(kn[1].strip()));
        } catch (RuntimeException e) {
            throw new dev.vane.core.InvalidInputException(option + " " + spec + ": " + e.getMessage());
        }
    }

    /** "A" or "B", the letter of the matching answer. */
    public String matchingLetter() {
        return matching.substring(1, 2);
    }

    /** The letter of the non-matching answer. */
    public String notMatchingLetter() {
        return notMatching.substring(1, 2);
    }

    private static String letter(String answer, String field) {
        String a = answer.strip();
        if (!a.equals("(A)") && !a.equals("(B)")) {
            throw new IllegalArgumentException(field + " must be \"(A)\" or \"(B)\", got \"" + answer + "\"");
        }
        return a;
    }
}
