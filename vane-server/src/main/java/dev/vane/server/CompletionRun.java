package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.generate.SamplingParams;
import dev.vane.server.batch.BatchScheduler;
import dev.vane.server.batch.GeneratedToken;
import dev.vane.lab.steer.Steering;
import dev.vane.server.batch.SequenceHandle;
import dev.vane.server.batch.SequenceListener;
import dev.vane.server.batch.SequenceRequest;
import dev.vane.server.judge.AnswerJudge;
import dev.vane.server.openai.ApiException;
import dev.vane.server.openai.Dialect;
import dev.vane.server.openai.GenerationRequest;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One request on its way through the scheduler: its choices are submitted as sequences, their tokens arrive
 * on a queue (the scheduler never waits for this request), and this thread - one virtual thread per request -
 * turns them into the response, whole or streamed as server-sent events. If the client goes away mid-stream
 * the write fails and the sequences are cancelled, which frees their batch rows at the next step.
 */
final class CompletionRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the scheduler reports, tagged with the choice it belongs to. */
    private sealed interface Event {
        int index();
    }

    private record TokenEvent(int index, GeneratedToken token) implements Event {
    }

    private record FinishEvent(int index, String reason) implements Event {
    }

    private record GatesEvent(int index, List<Steering.Decision> decisions) implements Event {
    }

    private record ErrorEvent(int index, RuntimeException error) implements Event {
    }

    /** Destination of the response body. */
    interface Output {
        /** A whole JSON response with status 200. */
        void json(JsonNode body);

        /** Starts an event stream (status 200, text/event-stream) and returns its body. */
        OutputStream eventStream();
    }

    private final GenerationRequest request;
    private final Dialect dialect;
    private final Dialect.Head head;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final StringBuilder[] texts;
    private final List<List<Dialect.LoggedToken>> tokens = new ArrayList<>();
    private final int[] tokenTextLength;
    private final String[] finish;
    /** Per choice, what its gates decided (null without gated steering). */
    private final JsonNode[] gates;
    private final JsonNode[] verdicts;
    /** Each choice's generated ids, kept only when its answer is to be judged. */
    private final int[][] generated;
    private final int[] generatedCount;
    private final AnswerJudge judge;
    private int completionTokens;

    /** A run of {@code request}; {@code judge} judges its answers when the request asks ({@code "judge": true}). */
    CompletionRun(GenerationRequest request, AnswerJudge judge) {
        this.request = request;
        this.judge = judge;
        this.dialect = request.dialect();
        this.head = new Dialect.Head(dialect.idPrefix() + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, request.model());
        int choices = request.choices();
        this.texts = new StringBuilder[choices];
        this.tokenTextLength = new int[choices];
        this.finish = new String[choices];
        this.gates = new JsonNode[choices];
        this.verdicts = new JsonNode[choices];
        this.generated = new int[choices][request.judging() == null ? 0 : 64];
        this.generatedCount = new int[choices];
        for (int i = 0; i < choices; i++) {
            texts[i] = new StringBuilder();
            tokens.add(request.topLogprobs() >= 0 ? new ArrayList<>() : null);
        }
    }

    /** Submits the choices and writes the response; returns when the response is complete. */
    void serve(BatchScheduler scheduler, Output output) {
        List<SequenceHandle> handles = scheduler.submit(sequences());
        try {
            if (request.stream()) stream(output.eventStream());
            else output.json(whole());
        } finally {
            // Whatever ended this response (done, failed, client gone), no choice of it needs more tokens.
            for (SequenceHandle h : handles) h.cancel();
        }
    }

    /** One sequence per choice: choice {@code p * n + j} is the j-th sample of prompt p, seeded {@code seed + j}. */
    private List<SequenceRequest> sequences() {
        List<SequenceRequest> out = new ArrayList<>();
        SamplingParams base = request.params();
        for (int p = 0; p < request.prompts().size(); p++) {
            GenerationRequest.Prompt prompt = request.prompts().get(p);
            for (int j = 0; j < request.n(); j++) {
                int index = p * request.n() + j;
                long seed = request.seeded() ? base.seed() + j : ThreadLocalRandom.current().nextLong() >>> 16;
                out.add(new SequenceRequest(prompt.ids(), prompt.promptEnd(), base.withSeed(seed), request.steering(),
                        request.topLogprobs(), listener(index)));
            }
        }
        return out;
    }

    private SequenceListener listener(int index) {
        return new SequenceListener() {
            @Override
            public void onToken(GeneratedToken token) {
                events.add(new TokenEvent(index, token));
            }

            @Override
            public void onFinish(String reason) {
                events.add(new FinishEvent(index, reason));
            }

            @Override
            public void onGates(List<Steering.Decision> decisions) {
                events.add(new GatesEvent(index, decisions));
            }

            @Override
            public void onError(RuntimeException error) {
                events.add(new ErrorEvent(index, error));
            }
        };
    }

    /** Waits for every choice and builds the whole response. */
    private JsonNode whole() {
        int open = request.choices();
        while (open > 0) {
            Event e = next();
            switch (e) {
                case TokenEvent t -> record(t);
                case GatesEvent g -> gates[g.index()] = gatesJson(g.decisions());
                case FinishEvent f -> {
                    finish[f.index()] = f.reason();
                    verdicts[f.index()] = verdict(f.index());
                    open--;
                }
                case ErrorEvent x -> throw failure(x);
            }
        }
        List<Dialect.Choice> choices = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            choices.add(new Dialect.Choice(i, texts[i].toString(), tokens.get(i), finish[i], verdicts[i], gates[i]));
        }
        return dialect.response(head, choices, usage());
    }

    /** Writes chunks as tokens arrive; a failed write (the client left) cancels the run. */
    private void stream(OutputStream out) {
        try {
            if (dialect instanceof dev.vane.server.openai.ChatDialect) {
                for (int i = 0; i < request.choices(); i++) send(out, dialect.chunk(head, i, "", null, null, true));
            }
            int open = request.choices();
            while (open > 0) {
                Event e = next();
                switch (e) {
                    case TokenEvent t -> {
                        List<Dialect.LoggedToken> logged = record(t);
                        if (!t.token().text().isEmpty() || logged != null) {
                            send(out, dialect.chunk(head, t.index(), t.token().text(), logged, null, false));
                        }
                    }
                    case GatesEvent g -> gates[g.index()] = gatesJson(g.decisions());
                    case FinishEvent f -> {
                        open--;
                        send(out, dialect.finishChunk(head, f.index(), f.reason(), verdict(f.index()), gates[f.index()]));
                    }
                    case ErrorEvent x -> {
                        // Headers are gone already: the error travels as an event, as OpenAI's API does.
                        send(out, failure(x).body(JSON));
                        out.close();
                        return;
                    }
                }
            }
            if (request.includeUsage()) send(out, dialect.usageChunk(head, usage()));
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("client went away", e);
        }
    }

    private static JsonNode gatesJson(List<Steering.Decision> decisions) {
        var array = JSON.createArrayNode();
        decisions.forEach(d -> array.add(d.json()));
        return array;
    }

    private static void send(OutputStream out, JsonNode chunk) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Adds a token to its choice; returns the token's log-probability entry when they were asked for. */
    private List<Dialect.LoggedToken> record(TokenEvent t) {
        int i = t.index();
        completionTokens++;
        texts[i].append(t.token().text());
        if (request.judging() != null) {
            if (generatedCount[i] == generated[i].length) generated[i] = Arrays.copyOf(generated[i], 2 * generated[i].length);
            generated[i][generatedCount[i]++] = t.token().id();
        }
        if (tokens.get(i) == null || t.token().logprobs() == null) return null;
        Dialect.LoggedToken logged = new Dialect.LoggedToken(t.token().id(), t.token().logprobs(), tokenTextLength[i]);
        tokenTextLength[i] += dialect.tokenText(t.token().id()).length();
        tokens.get(i).add(logged);
        return List.of(logged);
    }

    /** Choice {@code i}'s verdict when the request asked for one, else null. */
    private JsonNode verdict(int i) {
        GenerationRequest.Judging judging = request.judging();
        if (judging == null) return null;
        int[] context = request.prompts().get(i / request.n()).ids();
        try {
            return judge.judge(judging.request(), judging.prefill(), texts[i].toString(), context,
                    Arrays.copyOf(generated[i], generatedCount[i]));
        } catch (RuntimeException e) {
            // The answer itself is fine and, when streamed, mostly sent: it goes out with a verdict that says why
            // there is none, and the details stay in the server's log.
            System.err.println("vane serve: judging an answer failed: " + e);
            e.printStackTrace();
            return JSON.createObjectNode().putNull("verdict").put("error", "the judge failed; the server's log has the details");
        }
    }

    private Dialect.Usage usage() {
        int prompt = 0;
        for (GenerationRequest.Prompt p : request.prompts()) prompt += p.ids().length;
        return new Dialect.Usage(prompt, completionTokens);
    }

    private Event next() {
        try {
            return events.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable();
        }
    }

    private static ApiException failure(ErrorEvent x) {
        System.err.println("vane serve: generation failed: " + x.error());
        x.error().printStackTrace();
        // The engine's message is for the server's log: it may name files and types.
        return ApiException.internal();
    }
}
