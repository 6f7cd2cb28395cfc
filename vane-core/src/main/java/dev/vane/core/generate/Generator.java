package dev.vane.core.generate;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Generates continuations of one or several prompts together: the prompts are left-padded into one batch, the
 * KV cache is filled once, and each step runs one token per sequence. The hooks of the call apply at every
 * step exactly as in a forward pass ({@code Positions.lastOfCall()} is the newest token).
 *
 * <pre>{@code
 * Generator generator = new Generator(model, tokenizer);
 * int[] prompt = ChatPrompt.encode(tokenizer, List.of(ChatMessage.user("How do I bake bread?")), "");
 * Completion c = generator.generate(prompt, SamplingParams.greedy(64), new Hooks());
 * System.out.println(c.text());
 * }</pre>
 */
public final class Generator {
    private final Model model;
    private final Tokenizer tokenizer;
    private final int[] eosIds;

    /** A generator stopping on the checkpoint's end-of-sequence ids; {@code tokenizer} may be null (no text). */
    public Generator(Model model, Tokenizer tokenizer) {
        this(model, tokenizer, GenerationConfig.read(model.directory(), model.config()).eosIds());
    }

    public Generator(Model model, Tokenizer tokenizer, int[] eosIds) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds.clone();
    }

    /** The model it generates with. */
    public Model model() {
        return model;
    }

    /** Generates from one prompt. */
    public Completion generate(int[] prompt, SamplingParams params, Hooks hooks) {
        return generate(List.of(prompt), params, hooks, TokenListener.none()).getFirst();
    }

    /**
     * Generates from every prompt in one batch. Sequence r samples with seed {@code params.seed() + r}, so a
     * prompt's output does not depend on the other prompts of the batch.
     */
    public List<Completion> generate(List<int[]> prompts, SamplingParams params, Hooks hooks, TokenListener listener) {
        if (prompts.isEmpty()) return List.of();
        if (!params.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer");
        }
        int rows = prompts.size();
        int longest = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new InvalidInputException("a prompt is empty");
            longest = Math.max(longest, p.length);
        }
        int context = model.config().maxPositions();
        if (longest > context) {
            throw new InvalidInputException("prompt of " + longest + " tokens is longer than the model's context ("
                    + "max_position_embeddings " + context + ")");
        }
        int steps = Math.min(params.maxNewTokens(), context - longest);

        int[][] history = new int[rows][];
        int[] length = new int[rows];
        Sampler[] samplers = new Sampler[rows];
        TextStream[] texts = new TextStream[rows];
        int[] generated = new int[rows];
        Completion.FinishReason[] finish = new Completion.FinishReason[rows];
        for (int r = 0; r < rows; r++) {
            int[] p = prompts.get(r);
            history[r] = java.util.Arrays.copyOf(p, p.length + steps);
            length[r] = p.length;
            samplers[r] = new Sampler(params, params.seed() + r);
            texts[r] = new TextStream(tokenizer, params.stopStrings(), Math.max(1, steps));
        }

        if (steps > 0) {
            KvCache cache = model.newCache(rows, longest + steps);
            ForwardResult out = model.forward(Batch.of(prompts.toArray(int[][]::new)), hooks, cache, LogitsMode.LAST);
            int[] next = new int[rows];
            float[] logits = new float[model.config().vocabSize()];
            for (int step = 0; step < steps; step++) {
                int active = 0;
                for (int r = 0; r < rows; r++) {
                    if (finish[r] != null) continue;        // finished rows are fed their last token, ignored
                    out.lastLogits(r, logits);
                    int token = samplers[r].next(logits, history[r], length[r]);
                    history[r][length[r]++] = token;
                    generated[r]++;
                    next[r] = token;
                    if (isEos(token)) {
                        finish[r] = Completion.FinishReason.STOP;
                        listener.onToken(r, token, texts[r].finish());
                        continue;
                    }
                    String delta = texts[r].add(token);
                    if (texts[r].stopped()) finish[r] = Completion.FinishReason.STOP;
                    else if (generated[r] == steps) finish[r] = Completion.FinishReason.LENGTH;
                    listener.onToken(r, token, finish[r] != null ? delta + texts[r].finish() : delta);
                    if (finish[r] == null) active++;
                }
                if (active == 0) break;
                out = model.forward(Batch.nextTokens(next), hooks, cache, LogitsMode.LAST);
            }
        }
        List<Completion> completions = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            int p = prompts.get(r).length;
            completions.add(new Completion(p, java.util.Arrays.copyOfRange(history[r], p, length[r]), texts[r].text(),
                    finish[r] == null ? Completion.FinishReason.LENGTH : finish[r]));
        }
        return completions;
    }

    private boolean isEos(int token) {
        for (int id : eosIds) if (id == token) return true;
        return false;
    }
}
