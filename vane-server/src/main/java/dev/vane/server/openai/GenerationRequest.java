package dev.vane.server.openai;

import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.steer.Steering;

import java.util.List;

/**
 * What a chat completion or completion request asks for, validated: the prompts as token ids, how to sample,
 * how many choices per prompt, the steering, and how to answer.
 *
 * @param dialect     chat or text completion: decides the response shape
 * @param model       the model name the request named (echoed back)
 * @param prompts     one or more prompts (completions accept a list)
 * @param params      sampling and stop settings shared by every choice; the seed is the first choice's
 * @param seeded      whether the request gave a seed (otherwise each choice draws its own)
 * @param n           choices per prompt
 * @param steering    the composed steering (server default and request)
 * @param topLogprobs -1 for no log-probabilities, else the chosen token's and this many alternatives
 * @param stream      answer with server-sent events
 * @param includeUsage with {@code stream}: end with a usage chunk ({@code stream_options.include_usage})
 * @param judging     what the three-way judge needs to judge each answer ({@code "judge": true}), or null
 */
public record GenerationRequest(Dialect dialect, String model, List<Prompt> prompts, SamplingParams params,
                                boolean seeded, int n, Steering steering, int topLogprobs, boolean stream,
                                boolean includeUsage, Judging judging) {

    /**
     * What a judged chat request's answers are judged against.
     *
     * @param request the last user message: the request the refusal judge reads the answer against
     * @param prefill the forced start of every answer ("" when none); it is part of the judged response
     */
    public record Judging(String request, String prefill) {
    }

    /**
     * One prompt.
     *
     * @param ids       token ids
     * @param promptEnd token index of the last instruction token (before any prefill)
     */
    public record Prompt(int[] ids, int promptEnd) {
    }

    /** Total choices: prompts x n. */
    public int choices() {
        return prompts.size() * n;
    }
}
