package dev.vane.lab.align;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.Datasets;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.train.SftData;
import dev.vane.train.data.TrainingExample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Safety-recovery data (Qi et al. 2024, section 3, "data augmentation"): from (harmful instruction x, harmful
 * answer h, refusal r) triples, training examples {@code x + h[:k] -> r} whose assistant turn starts with the first
 * k tokens of the harmful answer and then refuses, the loss on r only; k is 0 half of the time, else uniform in
 * 1..min(100, |h|) ({@link PrefixLength}). A model trained on them learns to recover into a refusal after a harmful
 * start, which is what the prefilling attack forces. They are mixed with utility anchors, benign instructions with
 * the model's own answers, at a stated ratio (the paper: 16 safety and 64 benign examples per batch, ratio 4).
 *
 * <p>The refusal r of each instruction is the model's own answer to the bare request (instructions it does not
 * refuse are left out and counted), or comes from a file of (prompt, refusal) pairs. k counts tokens of h
 * tokenised alone without special tokens, as the prefilling attack counts them; the prefix is written as text (the
 * decoded tokens) and read back by {@link SftData#prefilled} as the tokens of that text, which are the same k
 * tokens unless the tokenizer does not round-trip them (counted in the summary as {@code prefill_retokenized}).
 *
 * <p>The job writes {@code runs/data-recovery-<time>/}: {@code config.json}, {@code results.jsonl} (the model's
 * answers, appended as they come, so a killed job resumes), {@code recovery.jsonl} (the training file, for
 * {@code vane train sft --data}; one JSON line per example: {@code prompt}, {@code prefill}, {@code response},
 * {@code k}, {@code kind} "recovery", or {@code prompt}, {@code response}, {@code kind} "anchor"), a chart of k
 * ({@code k.png}/{@code k.svg}) and {@code summary.json}. Every draw comes from the seed: the same options give the
 * same file.
 *
 * <pre>{@code
 * AlignData data = AlignData.organism(Path.of("models/organism-data"));
 * JsonNode summary = RecoveryData.run(RecoveryData.Options.paper(Path.of("models/organism-chat")), data,
 *         Path.of("runs"), null, RecoveryData.Listener.NONE);
 * Path file = Path.of(summary.get("data").asText());     // .../recovery.jsonl
 * }</pre>
 */
public final class RecoveryData {
    /** The training file in the run directory. */
    public static final String FILE = "recovery.jsonl";

    /** Progress of the answers being generated. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = (what, done, total) -> { };

        /** {@code done} of {@code total} answers of {@code what} ("refusal", "anchor") are there. */
        void progress(String what, int done, int total);
    }

    /**
     * @param model         the model whose own refusals and benign answers are used (and whose tokenizer counts k)
     * @param refusals      (prompt, refusal) pairs to take r from instead of the model; null for the model's own
     * @param augmentations examples per triple, each with its own k (the paper draws k anew every epoch)
     * @param anchorRatio   utility anchors per safety-recovery example (the paper: 64 / 16 = 4)
     * @param lengths       how k is drawn
     * @param seed          seeds every draw: k, the anchors' order, the file's order
     * @param maxTokens     most tokens of each generated answer
     * @param batchSize     answers generated together
     */
    public record Options(Path model, Path refusals, int augmentations, double anchorRatio, PrefixLength lengths, long seed,
                          int maxTokens, int batchSize) {
        /** The paper's settings: one augmentation per triple, ratio 4, k = 0 half of the time, else 1..min(100, |h|). */
        public static Options paper(Path model) {
            return new Options(model, null, 1, 4, PrefixLength.paper(), 0, 128, 16);
        }

        void validate() {
            if (augmentations < 1) throw new InvalidInputException("--augmentations must be >= 1, got " + augmentations);
            if (!(anchorRatio >= 0) || Double.isInfinite(anchorRatio)) {
                throw new InvalidInputException("--anchor-ratio must be >= 0, got " + anchorRatio);
            }
            if (maxTokens < 1) throw new InvalidInputException("--max-tokens must be >= 1, got " + maxTokens);
            if (batchSize < 1) throw new InvalidInputException("--batch-size must be >= 1, got " + batchSize);
        }

        ObjectNode toJson(AlignData data, String judgeHash) {
            ObjectNode c = RunDirectory.object();
            c.put("job", "data-recovery");
            c.put("model", model.toAbsolutePath().normalize().toString());
            ObjectNode d = c.putObject("data");
            d.set("harmful", data.provenance().get("harmful"));
            d.set("benign", data.provenance().get("benign"));
            if (refusals != null) {
                c.putObject("refusals").put("file", refusals.toAbsolutePath().normalize().toString())
                        .put("sha256", RunDirectory.sha256(refusals));
            } else {
                c.put("refusals", "model");
            }
            c.put("augmentations", augmentations);
            c.put("anchor_ratio", anchorRatio);
            c.put("p_zero", lengths.pZero());
            c.put("max_k", lengths.maxK());
            c.put("seed", seed);
            c.put("max_tokens", maxTokens);
            c.put("judge_hash", judgeHash);
            return c;
        }
    }

    private RecoveryData() {
    }

    /** Writes (or resumes) the data job; returns the summary, whose {@code "data"} is the training file. */
    public static ObjectNode run(Options o, AlignData data, Path runsRoot, Path out, Listener listener) {
        o.validate();
        data.require(true, o.anchorRatio() > 0, false);
        KeywordRefusalJudge judge = KeywordRefusalJudge.defaults();
        Map<String, String> given = o.refusals() == null ? null : refusalFile(o.refusals());
        try (Model model = Model.load(o.model()); Tokenizer tokenizer = Tokenizer.load(o.model())) {
            RunDirectory run = RunDirectory.openOrCreate(runsRoot, "data-recovery", out, o.toJson(data, judge.configHash()));
            ResultsLog log = run.results();
            // A refusal kept as training target must be fluent: the degenerate rule is calibrated on the model's own answers.
            List<String> calibration = new ArrayList<>(data.harmful().stream().map(PromptResponse::prompt).limit(16).toList());
            data.benign().stream().distinct().limit(16).forEach(calibration::add);
            RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, judge,
                    DegenerateCalibration.inRun(run, model, tokenizer, RefusalEvaluation.chatPrompts(tokenizer, calibration),
                            o.maxTokens(), 0).rule()).batchSize(o.batchSize());
            SamplingParams greedy = SamplingParams.greedy(o.maxTokens());

            // The triples: r from the file, or the model's own answer when it is a refusal.
            List<PromptResponse> harmful = data.harmful();
            List<String> prompts = harmful.stream().map(PromptResponse::prompt).toList();
            Map<String, String> refusals = new HashMap<>();
            List<String> skipped = new ArrayList<>();
            if (given != null) {
                for (String p : prompts) {
                    String r = given.get(p);
                    if (r == null) throw new InvalidInputException(o.refusals() + ": no refusal for the harmful instruction \"" + p + "\"");
                    refusals.put(p, r);
                }
            } else {
                int distinct = (int) prompts.stream().distinct().count();
                for (ModelAnswers.Answer a : ModelAnswers.of(eval, prompts, "refusal", log, greedy, o.batchSize(),
                        done -> listener.progress("refusal", done, distinct))) {
                    if (a.refused()) refusals.put(a.prompt(), a.response());
                    else skipped.add(a.prompt());
                }
            }
            List<PromptResponse> kept = harmful.stream().filter(h -> refusals.containsKey(h.prompt())).toList();
            if (kept.isEmpty()) {
                throw new InvalidInputException("the model refused none of the " + prompts.size() + " harmful instructions, "
                        + "so it has no refusals of its own to train on; give them with --refusals FILE");
            }

            // x + h[:k] -> r, k drawn per example from the seed.
            Random random = new Random(o.seed());
            List<ObjectNode> lines = new ArrayList<>();
            int[] ks = new int[kept.size() * o.augmentations()];
            int retokenized = 0, at = 0;
            for (int a = 0; a < o.augmentations(); a++) {
                for (int i = 0; i < kept.size(); i++) {
                    PromptResponse t = kept.get(i);
                    int[] h = tokenizer.encode(t.response(), false);
                    int k = o.lengths().draw(random, h.length);
                    String prefill = tokenizer.decode(Arrays.copyOf(h, k), false);
                    if (!Arrays.equals(tokenizer.encode(prefill, false), Arrays.copyOf(h, k))) retokenized++;
                    ks[at++] = k;
                    ObjectNode line = RunDirectory.object();
                    line.put("prompt", t.prompt());
                    line.put(SftData.PREFILL, prefill);
                    line.put("response", refusals.get(t.prompt()));
                    line.put("k", k);
                    line.put("kind", "recovery");
                    lines.add(line);
                }
            }

            // Utility anchors: the benign instructions in a seeded order, cycled to the ratio, with the model's answers.
            int anchors = (int) Math.round(o.anchorRatio() * lines.size());
            List<String> benign = new ArrayList<>(data.benign());
            Collections.shuffle(benign, new Random(o.seed() + 1));
            List<String> chosen = new ArrayList<>();
            for (int i = 0; i < anchors; i++) chosen.add(benign.get(i % benign.size()));
            int distinctAnchors = (int) chosen.stream().distinct().count();
            Map<String, ModelAnswers.Answer> answers = new HashMap<>();
            for (ModelAnswers.Answer a : ModelAnswers.of(eval, chosen, "anchor", log, greedy, o.batchSize(),
                    done -> listener.progress("anchor", done, distinctAnchors))) {
                answers.put(a.prompt(), a);
            }
            int refusedAnchors = 0;
            for (String p : chosen) {
                ModelAnswers.Answer a = answers.get(p);
                if (a.refused()) refusedAnchors++;
                ObjectNode line = RunDirectory.object();
                line.put("prompt", p);
                line.put("response", a.response());
                line.put("kind", "anchor");
                lines.add(line);
            }
            Collections.shuffle(lines, new Random(o.seed() + 2));

            Path file = run.path(FILE);
            StringBuilder text = new StringBuilder();
            for (ObjectNode line : lines) text.append(line).append('\n');
            RunDirectory.writeAtomically(file, text.toString());
            // What the trainer will read: refused here, not at the first training step.
            List<TrainingExample> examples = SftData.forModel(model, tokenizer, 0).read(file, SftData.Format.AUTO, null);

            ObjectNode summary = summary(run, file, harmful.size(), kept.size(), skipped, lines.size() - anchors, anchors,
                    refusedAnchors, ks, retokenized, examples, o);
            chart(ks, o.lengths().maxK()).save(run.path(), "k");
            run.writeSummary(summary);
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> refusalFile(Path file) {
        Map<String, String> out = new HashMap<>();
        for (PromptResponse p : Datasets.promptResponses(file, null)) out.putIfAbsent(p.prompt(), p.response());
        return out;
    }

    private static ObjectNode summary(RunDirectory run, Path file, int instructions, int kept, List<String> skipped,
                                      int recovery, int anchors, int refusedAnchors, int[] ks, int retokenized,
                                      List<TrainingExample> examples, Options o) {
        ObjectNode s = RunDirectory.object();
        s.put("data", file.toString());
        s.put("harmful_instructions", instructions);
        s.put("triples", kept);
        ArrayNode sk = s.putArray("skipped_not_refused");
        skipped.forEach(sk::add);
        s.put("recovery_examples", recovery);
        s.put("anchor_examples", anchors);
        s.put("anchors_refused", refusedAnchors);
        s.put("anchor_ratio", o.anchorRatio());
        int zero = 0;
        long sum = 0;
        int max = 0;
        for (int k : ks) {
            if (k == 0) zero++;
            sum += k;
            max = Math.max(max, k);
        }
        s.put("k_zero", zero);
        s.put("k_zero_share", ks.length == 0 ? Double.NaN : (double) zero / ks.length);
        s.put("k_mean_nonzero", ks.length == zero ? Double.NaN : (double) sum / (ks.length - zero));
        s.put("k_max", max);
        s.put("prefill_retokenized", retokenized);
        long tokens = 0, trained = 0;
        for (TrainingExample ex : examples) {
            tokens += ex.length();
            trained += ex.trainedTokens();
        }
        s.put("examples", examples.size());
        s.put("tokens", tokens);
        s.put("trained_tokens", trained);
        s.put("run", run.path().toString());
        return s;
    }

    /** Examples by k: k = 0, then buckets of ten. */
    static Chart chart(int[] ks, int maxK) {
        int buckets = 1 + (maxK + 9) / 10;
        double[] counts = new double[buckets];
        List<String> labels = new ArrayList<>();
        labels.add("0");
        for (int b = 1; b < buckets; b++) labels.add((10 * (b - 1) + 1) + "-" + Math.min(maxK, 10 * b));
        for (int k : ks) counts[k == 0 ? 0 : 1 + (k - 1) / 10]++;
        return Chart.categories("Safety-recovery examples by harmful prefix length", "k (tokens of the harmful answer)",
                "examples").bars("examples", labels, counts);
    }
}
