package dev.vane.lab.probe;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.LabelledText;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.data.Request;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Labelled texts for a probe: read from one {@code {"text", "label"}} file, or from two files of requests
 * ({@code {"prompt", ...}}) where the first is label true (e.g. harmful) and the second label false.
 *
 * <pre>{@code
 * ProbeData data = ProbeData.fromRequests(Path.of("harmful.jsonl"), Path.of("benign.jsonl"));
 * List<int[]> ids = data.encode(PromptFormat.chat(tokenizer, null, ""));
 * boolean[] labels = data.labels();
 * }</pre>
 */
public record ProbeData(List<String> texts, boolean[] labels) {
    public ProbeData {
        if (texts.size() != labels.length) throw new IllegalArgumentException("one label per text");
        texts = List.copyOf(texts);
        labels = labels.clone();
    }

    /** Rows of {@code {"text", "label"}} (label true/false or 1/0). */
    public static ProbeData fromLabelled(Path file) {
        List<LabelledText> rows = JsonlFile.read(file, LabelledText::fromJson);
        boolean[] labels = new boolean[rows.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = rows.get(i).label();
        ProbeData data = new ProbeData(rows.stream().map(LabelledText::text).toList(), labels);
        data.requireBothLabels(file.toString());
        return data;
    }

    /** Requests of {@code positive} labelled true followed by those of {@code negative} labelled false. */
    public static ProbeData fromRequests(Path positive, Path negative) {
        return fromRequests(positive, negative, null);
    }

    /** As {@link #fromRequests(Path, Path)}, only requests of {@code split} (null: all). */
    public static ProbeData fromRequests(Path positive, Path negative, String split) {
        List<String> texts = new ArrayList<>();
        JsonlFile.read(positive, Request::fromJson).stream().filter(r -> split == null || split.equals(r.split()))
                .forEach(r -> texts.add(r.prompt()));
        int positives = texts.size();
        JsonlFile.read(negative, Request::fromJson).stream().filter(r -> split == null || split.equals(r.split()))
                .forEach(r -> texts.add(r.prompt()));
        if (positives == 0 || positives == texts.size()) {
            throw new InvalidInputException((positives == 0 ? positive : negative) + ": no requests"
                    + (split != null ? " in split " + split : "") + "; a probe needs both labels");
        }
        boolean[] labels = new boolean[texts.size()];
        for (int i = 0; i < positives; i++) labels[i] = true;
        return new ProbeData(texts, labels);
    }

    private void requireBothLabels(String source) {
        int positives = 0;
        for (boolean b : labels) if (b) positives++;
        if (positives == 0 || positives == labels.length) {
            throw new InvalidInputException(source + ": every row has label " + (positives > 0)
                    + "; a probe needs both labels");
        }
    }

    /** The labels (a copy). */
    @Override
    public boolean[] labels() {
        return labels.clone();
    }

    /** Every text as prompt token ids. */
    public List<int[]> encode(PromptFormat format) {
        return texts.stream().map(format::encode).toList();
    }
}
