package dev.vane.lab.eval;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Batch;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.PrefixCache;
import dev.vane.core.model.Model;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * A/B evaluation (CAA's readout): for each question, the probability of each answer ("(A)", "(B)") as a
 * continuation of the chat prompt, i.e. the sum of the answer's token log-probabilities, normalised over the
 * two answers. Reports the mean p(matching) and the fraction of questions where the matching answer wins.
 *
 * <pre>{@code
 * AbEvaluation eval = new AbEvaluation(model, tokenizer);
 * AbEvaluation.Result r = eval.evaluate(questions, Steering.of(caa, 1f), done -> {});
 * r.meanPMatching();     // 0.75 with the behaviour steered up
 * }</pre>
 */
public final class AbEvaluation {
    /** One question's readout. */
    public record Item(int index, double logProbA, double logProbB, double pMatching, double logOddsMatching) {
        /** True when the matching answer is the more likely one. */
        public boolean matchingWins() {
            return pMatching > 0.5;
        }

    }

    /** All questions; {@code meanLogOdds} is the mean of each question's log-odds of the matching answer. */
    public record Result(int n, double meanPMatching, double matchingRate, double meanLogOdds, List<Item> items) {
        static Result of(List<Item> items) {
            double sum = 0, logOdds = 0;
            int wins = 0;
            for (Item i : items) {
                sum += i.pMatching();
                logOdds += i.logOddsMatching();
                if (i.matchingWins()) wins++;
            }
            return new Result(items.size(), sum / items.size(), (double) wins / items.size(), logOdds / items.size(), items);
        }
    }

    /**
     * One sampled chain-of-thought answer: the prompt (question + {@link AnswerParser#SUFFIX}), the generated
     * tokens (EOS included when the model stopped) and the parsed letter (null = undefined).
     */
    public record SampledAnswer(int question, int[] prompt, int[] completion, String text, String letter,
                                boolean matching) { }

    /** Sampled answers: the fraction that is the matching answer (undefined answers count as not matching). */
    public record SampledResult(int n, double matchingFraction, double undefinedFraction, List<SampledAnswer> answers) {
        static SampledResult of(List<SampledAnswer> answers) {
            long matching = answers.stream().filter(SampledAnswer::matching).count();
            long undefined = answers.stream().filter(a -> a.letter() == null).count();
            return new SampledResult(answers.size(), (double) matching / answers.size(),
                    (double) undefined / answers.size(), answers);
        }
    }

    /** Prompt prefixes kept for reuse across evaluations (a head sweep evaluates the same questions many times). */
    private static final long PREFIX_BYTES = 256L << 20;
    /** Questions per call when prompts are shared (the rows are a few tokens long). */
    private static final int SHARED_BATCH = 64;

    private final Model model;
    private final Tokenizer tokenizer;
    private int batchSize = 8;
    private PrefixCache prefixes;
    private boolean reusePrefixes = true;

    /** An evaluator on {@code model} with its tokenizer and chat template. */
    public AbEvaluation(Model model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** The prompt prefixes shared by evaluations, made on first use. */
    private synchronized PrefixCache prefixCache() {
        if (prefixes == null) prefixes = new PrefixCache(model, PREFIX_BYTES);
        return prefixes;
    }

    /**
     * Whether prompts are computed once and shared by both answers and by later evaluations of the same questions
     * (on by default; it applies only to steering that leaves the prompt before its last token alone). Off, every
     * evaluation runs every prompt in full: the reference the shared path is tested against.
     */
    public AbEvaluation reusePrefixes(boolean reuse) {
        this.reusePrefixes = reuse;
        return this;
    }

    /** Prompt prefixes computed so far (each once, however many evaluations shared it). */
    long prefixesComputed() {
        return prefixes == null ? 0 : prefixes.computed();
    }

    /** Questions per forward call. */
    public int batchSize() {
        return batchSize;
    }

    /** Whether prompts are shared ({@link #reusePrefixes(boolean)}). */
    public boolean reusesPrefixes() {
        return reusePrefixes;
    }

    /** Questions per forward call (two sequences each). */
    public AbEvaluation batchSize(int questions) {
        if (questions < 1) throw new IllegalArgumentException("batch size must be positive");
        this.batchSize = questions;
        return this;
    }

    /** The chat prompt of a question: the user's message, no system prompt, with the generation prompt. */
    public int[] prompt(AbQuestion q) {
        return ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(q.question())), "");
    }

    /** Evaluates every question under {@code steering}; {@code progress} gets the number of questions done. */
    public Result evaluate(List<AbQuestion> questions, Steering steering, IntConsumer progress) {
        if (questions.isEmpty()) throw new InvalidInputException("no A/B questions");
        int[] answerA = answerTokens("(A)");
        int[] answerB = answerTokens("(B)");
        // Steering that leaves the prompt before its last token alone: that part runs once, unsteered, and each
        // evaluation runs only the last prompt token and the answer (A and B of one question share the prefix).
        boolean reuse = reusePrefixes && steering.leavesPromptAlone() && answerA.length == answerB.length;
        // a shared-prefix call holds only the last prompt token and the answer per row: many questions fit in one
        int perCall = reuse ? Math.max(batchSize, SHARED_BATCH) : batchSize;
        List<Item> items = new ArrayList<>();
        for (int start = 0; start < questions.size(); start += perCall) {
            int count = Math.min(perCall, questions.size() - start);
            int[][] prompts = new int[count][];
            for (int i = 0; i < count; i++) prompts[i] = prompt(questions.get(start + i));
            boolean forked = reuse && Arrays.stream(prompts).allMatch(p -> p.length > 1);
            int[][] seqs = new int[2 * count][];
            int[] promptEnd = new int[2 * count];
            List<int[]> shared = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int[] p = prompts[i];
                int[] rest = forked ? Arrays.copyOfRange(p, p.length - 1, p.length) : p;
                seqs[2 * i] = concat(rest, answerA);
                seqs[2 * i + 1] = concat(rest, answerB);
                promptEnd[2 * i] = promptEnd[2 * i + 1] = p.length - 1;
                if (forked) {
                    int[] prefix = Arrays.copyOf(p, p.length - 1);
                    shared.add(prefix);
                    shared.add(prefix);
                }
            }
            KvCache kv = forked ? prefixCache().fork(shared, seqs[0].length)
                    : model.newCache(seqs.length, maxLength(seqs));
            // logits only where they are read: the last prompt token and the answer, at the end of every row
            ForwardResult out = model.forward(Batch.of(seqs), steering.hooks(seqs.length, promptEnd, true), kv,
                    Math.max(answerA.length, answerB.length) + 1);
            for (int i = 0; i < count; i++) {
                double a = continuationLogProb(out.tailLogits(2 * i, answerA.length + 1), 1, answerA);
                double b = continuationLogProb(out.tailLogits(2 * i + 1, answerB.length + 1), 1, answerB);
                AbQuestion q = questions.get(start + i);
                double pA = LogProbs.normalisedFirst(a, b);
                boolean matchingIsA = q.matchingLetter().equals("A");
                // log-odds stay readable where p(matching) is pinned near 0 or 1.
                items.add(new Item(start + i, a, b, matchingIsA ? pA : 1 - pA, matchingIsA ? a - b : b - a));
            }
            progress.accept(start + count);
        }
        return Result.of(items);
    }

    /**
     * HSI's sampled mode: {@code samples} chain-of-thought answers per question (the question with
     * {@link AnswerParser#SUFFIX}), parsed by {@link AnswerParser}. The paper samples at temperature 0.1-0.3,
     * top-p 0.95.
     */
    public SampledResult sample(List<AbQuestion> questions, int samples, SamplingParams params, Steering steering,
                                IntConsumer progress) {
        if (questions.isEmpty()) throw new InvalidInputException("no A/B questions");
        if (samples < 1) throw new InvalidInputException("samples must be positive");
        Generator generator = new Generator(model, tokenizer);
        List<SampledAnswer> answers = new ArrayList<>();
        int rowsPerCall = Math.max(1, batchSize * 2);
        List<int[]> prompts = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int q = 0; q < questions.size(); q++) {
            int[] p = ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(questions.get(q).question() + AnswerParser.SUFFIX)), "");
            for (int k = 0; k < samples; k++) {
                prompts.add(p);
                owners.add(q);
            }
        }
        for (int from = 0; from < prompts.size(); from += rowsPerCall) {
            List<int[]> chunk = prompts.subList(from, Math.min(prompts.size(), from + rowsPerCall));
            int[] ends = chunk.stream().mapToInt(p -> p.length - 1).toArray();
            List<Completion> out = generator.generate(chunk, params.withSeed(params.seed() + from),
                    steering.hooks(chunk.size(), ends), (r, t, x) -> { });
            for (int i = 0; i < chunk.size(); i++) {
                int q = owners.get(from + i);
                Completion c = out.get(i);
                String letter = AnswerParser.parse(c.text());
                answers.add(new SampledAnswer(q, chunk.get(i), c.tokenIds(), c.text(), letter,
                        questions.get(q).matchingLetter().equals(letter)));
            }
            progress.accept(answers.size());
        }
        return SampledResult.of(answers);
    }

    /** Sum of log p(answer token k | prompt, answer tokens before k). */
    static double continuationLogProb(FloatTensor logits, int promptLength, int[] answer) {
        int vocab = logits.dim(1);
        double sum = 0;
        for (int k = 0; k < answer.length; k++) {
            sum += LogProbs.of(logits.data(), (promptLength - 1 + k) * vocab, vocab, answer[k]);
        }
        return sum;
    }

    private int[] answerTokens(String answer) {
        int[] ids = tokenizer.encode(answer, false);
        if (ids.length == 0) throw new IllegalStateException("answer " + answer + " has no tokens");
        return ids;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static int maxLength(int[][] seqs) {
        int m = 0;
        for (int[] s : seqs) m = Math.max(m, s.length);
        return m;
    }
}
