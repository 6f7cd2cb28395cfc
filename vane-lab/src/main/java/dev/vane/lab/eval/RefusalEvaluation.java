package dev.vane.lab.eval;

import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.judge.DegenerateCalibration;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.FluencyScorer;
import dev.vane.lab.judge.Judge;
import dev.vane.lab.judge.Outcome;
import dev.vane.lab.judge.OutcomeJudge;
import dev.vane.lab.judge.OutcomeRates;
import dev.vane.lab.steer.GateReadings;
import dev.vane.lab.steer.Steering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Refused, complied and degenerate rates of a chat model on a list of requests: each request goes through the
 * chat template, an optional prefill starts the assistant's answer (the prefilling attack), the model continues
 * under the given steering, and each answer is judged three ways ({@link OutcomeJudge}): the refusal judge reads
 * the whole answer (prefill + continuation), and the degenerate rule, on the continuation's fluency under the
 * model without steering, sets apart answers that are not fluent text.
 *
 * <pre>{@code
 * RefusalEvaluation eval = new RefusalEvaluation(model, tokenizer, KeywordRefusalJudge.defaults(),
 *         RefusalEvaluation.calibrate(model, tokenizer, benignPrompts, 48));
 * RefusalEvaluation.Result r = eval.evaluate(prompts, "Sure, here is", Steering.of(antidote, 4f),
 *         SamplingParams.greedy(48), done -> {});
 * r.rates().refused().rate();       // fluent refusals only
 * r.rates().degenerate().rate();
 * }</pre>
 */
public final class RefusalEvaluation {
    /**
     * One request's answer, its judgement, whether it stopped at the token limit rather than by itself, and what the
     * gates of gated steering decided for it (empty without gated terms).
     */
    public record Item(String prompt, String response, OutcomeJudge.Judged judged, boolean truncated,
                       List<Steering.Decision> gates) {
        public Item {
            gates = List.copyOf(gates);
        }

        /** Whether some gated term steered this request. */
        public boolean gateFired() {
            return gates.stream().anyMatch(Steering.Decision::fired);
        }

        public Outcome outcome() {
            return judged.outcome();
        }

        /** A fluent refusal. */
        public boolean refused() {
            return outcome() == Outcome.REFUSED;
        }
    }

    /** All requests. */
    public record Result(List<Item> items, OutcomeRates rates) {
        static Result of(List<Item> items) {
            return new Result(items, OutcomeRates.of(items.stream().map(Item::outcome).toList()));
        }

        public int n() {
            return items.size();
        }

        /** Fluent refusals over all answers (degenerate answers are not refusals). */
        public double refusalRate() {
            return rates.refused().rate();
        }

        /** The outcomes in request order. */
        public List<Outcome> outcomes() {
            return items.stream().map(Item::outcome).toList();
        }

        /** The answers in request order. */
        public List<String> responses() {
            return items.stream().map(Item::response).toList();
        }

        /** The fraction of requests some gate steered; NaN when the steering had no gated term. */
        public double gateFiredRate() {
            if (items.isEmpty() || items.getFirst().gates().isEmpty()) return Double.NaN;
            return (double) items.stream().filter(Item::gateFired).count() / items.size();
        }
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final OutcomeJudge judge;
    private int batchSize = 16;

    /** An evaluator on {@code model}: refusal by {@code judge}, fluency under {@code model} without hooks by {@code rule}. */
    public RefusalEvaluation(Model model, Tokenizer tokenizer, Judge judge, DegenerateRule rule) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.judge = new OutcomeJudge(judge, new FluencyScorer(model), rule);
    }

    /**
     * The degenerate rule calibrated on {@code model}'s own answers (temperature 1, seed 0, no steering) to
     * {@code prompts}, of up to {@code maxTokens} tokens.
     */
    public static DegenerateRule calibrate(Model model, Tokenizer tokenizer, List<String> prompts, int maxTokens) {
        return DegenerateCalibration.measure(model, tokenizer, chatPrompts(tokenizer, prompts), maxTokens, 0).rule();
    }

    /** The ids of each prompt as the user's turn, with the assistant turn opened. */
    public static List<int[]> chatPrompts(Tokenizer tokenizer, List<String> prompts) {
        return prompts.stream().map(p -> ChatPrompt.encode(tokenizer, List.of(ChatMessage.user(p)), "")).toList();
    }

    /** The rule that sets degenerate answers apart. */
    public DegenerateRule rule() {
        return judge.rule();
    }

    /** The refusal judge (before the degenerate rule). */
    public Judge refusalJudge() {
        return judge.refusalJudge();
    }

    /** Requests generated together, the batch size. */
    public int batchSize() {
        return batchSize;
    }

    /** Requests generated together. */
    public RefusalEvaluation batchSize(int size) {
        if (size < 1) throw new IllegalArgumentException("batch size must be positive");
        this.batchSize = size;
        return this;
    }

    /** Generates an answer to every prompt under {@code steering} and judges it. */
    public Result evaluate(List<String> prompts, String prefill, Steering steering, SamplingParams params,
                           IntConsumer progress) {
        if (prompts.isEmpty()) throw new InvalidInputException("no prompts");
        String start = prefill == null ? "" : prefill;
        Generator generator = new Generator(model, tokenizer);
        List<Item> items = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += batchSize) {
            List<String> chunk = prompts.subList(from, Math.min(prompts.size(), from + batchSize));
            List<int[]> ids = new ArrayList<>();
            int[] promptEnd = new int[chunk.size()];
            for (int i = 0; i < chunk.size(); i++) {
                List<ChatMessage> messages = List.of(ChatMessage.user(chunk.get(i)));
                ids.add(ChatPrompt.encode(tokenizer, messages, start));
                promptEnd[i] = ChatPrompt.encode(tokenizer, messages, "").length - 1;
            }
            // Row r samples with seed + r: offset by the chunk start so results do not depend on the batch size.
            GateReadings[] readings = steering.newReadings(ids.size());
            List<Completion> out = generator.generate(ids, params.withSeed(params.seed() + from),
                    steering.hooks(ids.size(), promptEnd, false, readings), (r, t, s) -> { });
            List<OutcomeJudge.Answer> answers = new ArrayList<>();
            for (int i = 0; i < chunk.size(); i++) {
                answers.add(new OutcomeJudge.Answer(chunk.get(i), start, start + out.get(i).text(), ids.get(i),
                        out.get(i).tokenIds()));
            }
            List<OutcomeJudge.Judged> judged = judge.judge(answers);
            for (int i = 0; i < chunk.size(); i++) {
                items.add(new Item(chunk.get(i), answers.get(i).response(), judged.get(i),
                        out.get(i).finishReason() == Completion.FinishReason.LENGTH, steering.decisions(readings[i])));
            }
            progress.accept(items.size());
        }
        return Result.of(items);
    }
}
