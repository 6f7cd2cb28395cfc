package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.generate.TokenListener;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs trials in batches, judges each answer and appends one line per trial to the results log as soon as its
 * batch is done. A batch holds consecutive trials with the same decoding settings whose seeds follow each other:
 * the generator samples row r of a batch with seed {@code params.seed() + r}, so each trial gets its own seed
 * whatever the batch size, and a resumed run samples exactly what the interrupted one would have.
 *
 * <p>Each results line: {@code id}, {@code prompt}, {@code prefill} (the forced text), {@code response} (the
 * whole answer as judged: prefill and continuation), the trial's own fields, {@code finish_reason},
 * {@code completion_tokens}, {@code seed} (when sampling), then the three-way judgement
 * ({@link OutcomeJudge.Judged#writeTo}: {@code verdict}, {@code success}, the refusal judge's fields, fluency).
 *
 * <pre>{@code
 * new TrialRunner(generator, tokenizer, outcomeJudge, Steering.none(), 16)
 *         .run(trials, run.results(), (trial, judged) -> progress.step(trial.id()));
 * }</pre>
 */
public final class TrialRunner {
    /** Told about each trial once its line is on disk. */
    @FunctionalInterface
    public interface Listener {
        void done(Trial trial, OutcomeJudge.Judged judged);
    }

    private final Generator generator;
    private final Tokenizer tokenizer;
    private final OutcomeJudge judge;
    private final Steering steering;
    private final int batchSize;

    public TrialRunner(Generator generator, Tokenizer tokenizer, OutcomeJudge judge, Steering steering, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.judge = judge;
        this.steering = steering;
        this.batchSize = batchSize;
    }

    /** Runs every trial of {@code trials} not yet in {@code log}, in order. */
    public void run(List<Trial> trials, ResultsLog log, Listener listener) {
        List<Trial> pending = trials.stream().filter(t -> !log.isDone(t.id())).toList();
        for (List<Trial> batch : batches(pending, batchSize)) {
            for (Done d : runBatch(batch)) {
                log.append(d.line());
                listener.done(d.trial(), d.judged());
            }
        }
    }

    /** A trial's results line and its judgement. */
    record Done(Trial trial, ObjectNode line, OutcomeJudge.Judged judged) { }

    /** Generates the answers of one batch (trials that share decoding settings) together and judges them. */
    List<Done> runBatch(List<Trial> batch) {
        List<int[]> prompts = batch.stream().map(Trial::promptIds).toList();
        int[] promptEnds = batch.stream().mapToInt(Trial::promptEnd).toArray();
        List<Completion> out = generator.generate(prompts, batch.getFirst().params(),
                steering.hooks(batch.size(), promptEnds), TokenListener.none());
        List<OutcomeJudge.Answer> answers = new ArrayList<>();
        for (int r = 0; r < batch.size(); r++) answers.add(answer(batch.get(r), out.get(r)));
        List<OutcomeJudge.Judged> judged = judge.judge(answers);
        List<Done> done = new ArrayList<>();
        for (int r = 0; r < batch.size(); r++) {
            done.add(new Done(batch.get(r), line(batch.get(r), answers.get(r), out.get(r), judged.get(r)), judged.get(r)));
        }
        return done;
    }

    private OutcomeJudge.Answer answer(Trial trial, Completion c) {
        int[] answer = Arrays.copyOf(trial.prefillIds(), trial.prefillIds().length + c.tokenIds().length);
        System.arraycopy(c.tokenIds(), 0, answer, trial.prefillIds().length, c.tokenIds().length);
        // Decoded together, so that the text at the seam is what the model saw (no space lost or doubled).
        String response = tokenizer.decode(answer, true);
        String prefill = tokenizer.decode(trial.prefillIds(), true);
        return new OutcomeJudge.Answer(trial.prompt(), prefill, response, trial.promptIds(), c.tokenIds());
    }

    private static ObjectNode line(Trial trial, OutcomeJudge.Answer a, Completion c, OutcomeJudge.Judged judged) {
        ObjectNode line = RunDirectory.object();
        line.put("id", trial.id());
        line.put("prompt", trial.prompt());
        line.put("prefill", a.prefill());
        line.put("response", a.response());
        line.setAll(trial.fields());
        line.put("finish_reason", c.finishReason().label());
        line.put("completion_tokens", c.tokenIds().length);
        if (!trial.params().isGreedy()) line.put("seed", trial.params().seed());
        judged.writeTo(line);
        return line;
    }

    /**
     * Splits {@code trials} into runs of at most {@code size} consecutive trials that share decoding settings
     * and have consecutive seeds (trial i of a run has the first trial's seed + i).
     */
    static List<List<Trial>> batches(List<Trial> trials, int size) {
        List<List<Trial>> out = new ArrayList<>();
        List<Trial> current = new ArrayList<>();
        for (Trial t : trials) {
            if (!current.isEmpty() && (current.size() == size || !continues(current, t))) {
                out.add(current);
                current = new ArrayList<>();
            }
            current.add(t);
        }
        if (!current.isEmpty()) out.add(current);
        return out;
    }

    private static boolean continues(List<Trial> batch, Trial next) {
        SamplingParams first = batch.getFirst().params();
        return next.params().withSeed(0).equals(first.withSeed(0))
                && next.params().seed() == first.seed() + batch.size();
    }
}
