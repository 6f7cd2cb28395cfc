package dev.vane.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.server.batch.TokenLogprobs;

import java.util.List;
import java.util.function.IntFunction;

/**
 * The shape of responses for one endpoint: {@code /v1/chat/completions} ({@link ChatDialect}) or
 * {@code /v1/completions} ({@link TextDialect}), whole or as server-sent-event chunks, as OpenAI's clients
 * parse them. Every field those clients treat as required is always written, null where it does not apply.
 */
public abstract sealed class Dialect permits ChatDialect, TextDialect {
    /** Shared JSON mapper. */
    protected static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One generated token with its log-probabilities; {@code textOffset} is where its text starts in the
     * choice's text (the sum of the earlier tokens' text lengths).
     */
    public record LoggedToken(int id, TokenLogprobs logprobs, int textOffset) {
    }

    /**
     * A finished choice; {@code judge} is its verdict ({@code "judge": true}), else null; {@code gates} what the gates
     * of gated steering decided ({@code steering_gates}), else null.
     */
    public record Choice(int index, String text, List<LoggedToken> tokens, String finishReason, JsonNode judge,
                         JsonNode gates) {
    }

    /** Token counts of a request. */
    public record Usage(int promptTokens, int completionTokens) {
    }

    /** Identity of one response, repeated in every chunk. */
    public record Head(String id, long created, String model) {
    }

    /** The text of a token id (for log-probabilities). */
    protected final IntFunction<String> tokenText;
    private final String idPrefix;
    private final String responseObject;
    private final String chunkObject;

    /** The text of token {@code id}, as log-probabilities show it. */
    public String tokenText(int id) {
        return tokenText.apply(id);
    }

    /** {@code responseObject} and {@code chunkObject} are the {@code object} of a response and of a chunk. */
    protected Dialect(IntFunction<String> tokenText, String idPrefix, String responseObject, String chunkObject) {
        this.tokenText = tokenText;
        this.idPrefix = idPrefix;
        this.responseObject = responseObject;
        this.chunkObject = chunkObject;
    }

    /** Prefix of response ids: {@code chatcmpl-} or {@code cmpl-}. */
    public String idPrefix() {
        return idPrefix;
    }

    /** The whole response of a non-streamed request. */
    public ObjectNode response(Head head, List<Choice> choices, Usage usage) {
        ObjectNode root = start(head, responseObject);
        ArrayNode array = root.putArray("choices");
        for (Choice c : choices) array.add(withGates(withJudge(choice(c), c.judge()), c.gates()));
        root.set("usage", usage(usage));
        return root;
    }

    /**
     * One streamed chunk for choice {@code index}: new text, the tokens it came from (when log-probabilities
     * were asked for, else null), and the finish reason on the choice's last chunk. {@code first} marks the
     * choice's first chunk (chat announces the assistant role there).
     */
    public ObjectNode chunk(Head head, int index, String text, List<LoggedToken> tokens, String finishReason,
                            boolean first) {
        ObjectNode root = start(head, chunkObject);
        root.putArray("choices").add(chunkChoice(index, text, tokens, finishReason, first));
        return root;
    }

    /**
     * The last chunk of choice {@code index}: no text, its finish reason and, when it was judged, its verdict
     * ({@code judge}, a Vane extension that OpenAI's clients ignore), and under gated steering its gates' decisions.
     */
    public ObjectNode finishChunk(Head head, int index, String finishReason, JsonNode judge, JsonNode gates) {
        ObjectNode root = chunk(head, index, "", null, finishReason, false);
        withGates(withJudge((ObjectNode) root.get("choices").get(0), judge), gates);
        return root;
    }

    /** {@code steering_gates}: [{"vector", "gate", "probability", "fired", "scale"}] of gated steering (a Vane extension). */
    private static ObjectNode withGates(ObjectNode choice, JsonNode gates) {
        if (gates != null) choice.set("steering_gates", gates);
        return choice;
    }

    private static ObjectNode withJudge(ObjectNode choice, JsonNode judge) {
        if (judge != null) choice.set("judge", judge);
        return choice;
    }

    /** One finished choice of a whole response. */
    protected abstract ObjectNode choice(Choice c);

    /** The one choice of a streamed chunk (see {@link #chunk}). */
    protected abstract ObjectNode chunkChoice(int index, String text, List<LoggedToken> tokens, String finishReason,
                                              boolean first);

    /** The last chunk when the client asked for usage: no choices, the token counts. */
    public ObjectNode usageChunk(Head head, Usage usage) {
        ObjectNode root = start(head, chunkObject);
        root.putArray("choices");
        root.set("usage", usage(usage));
        return root;
    }


    private static ObjectNode start(Head head, String object) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", head.id());
        root.put("object", object);
        root.put("created", head.created());
        root.put("model", head.model());
        return root;
    }

    protected static ObjectNode usage(Usage usage) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", usage.promptTokens());
        u.put("completion_tokens", usage.completionTokens());
        u.put("total_tokens", usage.promptTokens() + usage.completionTokens());
        return u;
    }
}
