package dev.vane.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.steer.Steering;
import dev.vane.server.steer.SteeringPolicy;
import dev.vane.server.steer.SteeringPolicy.VectorScale;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns a request body into a {@link GenerationRequest}, checking every field before anything reaches the
 * model: types, ranges, the served model's name, the prompt's length against the context, the caps on
 * {@code max_tokens} and {@code n}, and the steering vectors' names. Anything wrong is a 400 naming the field.
 * Fields Vane does not implement are refused when set to anything but their "off" value, never ignored.
 *
 * <p>Extensions beyond OpenAI's API: {@code steering} (a list of {@code {"vector": NAME, "scale": X}}),
 * {@code steering_default} (false drops the server's default steering), {@code top_k}, {@code min_p},
 * {@code repetition_penalty} (as vLLM names them) and, for chat, {@code prefill} (the start of the assistant's
 * answer, which the model continues) and {@code judge} (true: each answer is judged refused, complied or
 * degenerate, and the verdict travels with its choice).
 *
 * <pre>{@code
 * RequestParser parser = new RequestParser(tokenizer, "organism-chat", 512, limits, policy, chat, text);
 * GenerationRequest r = parser.chat(body);
 * }</pre>
 */
public final class RequestParser {
    /** Caps on what one request may ask for. */
    public record Limits(int maxTokens, int maxChoices, int maxPrompts) {
    }

    /** OpenAI caps {@code top_logprobs} at 20 for chat and {@code logprobs} at 5 for completions. */
    static final int MAX_TOP_LOGPROBS = 20;
    static final int MAX_COMPLETION_LOGPROBS = 5;
    /** OpenAI's limit on stop sequences. */
    static final int MAX_STOPS = 4;
    /** OpenAI's default {@code max_tokens} for the legacy completions endpoint. */
    static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

    private final Tokenizer tokenizer;
    private final String modelName;
    private final int context;
    private final Limits limits;
    private final SteeringPolicy steering;
    private final ChatDialect chat;
    private final TextDialect text;

    public RequestParser(Tokenizer tokenizer, String modelName, int context, Limits limits, SteeringPolicy steering,
                         ChatDialect chat, TextDialect text) {
        this.tokenizer = tokenizer;
        this.modelName = modelName;
        this.context = context;
        this.limits = limits;
        this.steering = steering;
        this.chat = chat;
        this.text = text;
    }

    /** A {@code /v1/chat/completions} body. */
    public GenerationRequest chat(ObjectNode body) {
        RequestFields f = new RequestFields(body);
        String model = model(f);
        List<ChatMessage> messages = messages(f.node("messages"));
        String prefill = f.string("prefill", "");
        GenerationRequest.Judging judging = f.bool("judge", false) ? judging(messages, prefill) : null;
        boolean logprobs = f.bool("logprobs", false);
        int top = (int) f.integer("top_logprobs", 0, MAX_TOP_LOGPROBS, 0);
        if (f.has("top_logprobs") && !logprobs) {
            throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
        }
        f.onlyDefault("response_format", JsonNodeFactory.instance.objectNode().put("type", "text"),
                "output is plain text");
        for (String tool : List.of("tools", "tool_choice", "functions", "function_call")) {
            f.onlyDefault(tool, JsonNodeFactory.instance.nullNode(), "no tool calling");
        }
        f.ignore("parallel_tool_calls");

        int[] ids;
        int promptEnd;
        try {
            ids = ChatPrompt.encode(tokenizer, messages, prefill);
            promptEnd = prefill.isEmpty() ? ids.length - 1 : ChatPrompt.encode(tokenizer, messages, "").length - 1;
        } catch (InvalidInputException e) {
            throw ApiException.badRequest("messages", e);
        }
        List<GenerationRequest.Prompt> prompts = List.of(prompt(ids, Math.max(0, promptEnd), "messages"));
        int defaultMax = Math.min(limits.maxTokens(), context - ids.length);
        return common(f, chat, model, prompts, defaultMax, logprobs ? top : -1, judging);
    }

    /** The refusal judge reads an answer against the request it answers: the conversation's last user message. */
    private static GenerationRequest.Judging judging(List<ChatMessage> messages, String prefill) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role().equals("user")) return new GenerationRequest.Judging(messages.get(i).content(), prefill);
        }
        throw ApiException.badRequest("judge", "'judge' needs a user message to judge the answer against");
    }

    /** A {@code /v1/completions} body. */
    public GenerationRequest completion(ObjectNode body) {
        RequestFields f = new RequestFields(body);
        String model = model(f);
        if (!f.has("prompt")) throw ApiException.badRequest("prompt", "'prompt' is required");
        List<String> texts = f.strings("prompt", limits.maxPrompts());
        if (texts.isEmpty()) throw ApiException.badRequest("prompt", "'prompt' holds no prompt");
        int top = f.has("logprobs") ? (int) f.integer("logprobs", 0, MAX_COMPLETION_LOGPROBS, 0) : -1;
        f.onlyDefault("echo", JsonNodeFactory.instance.booleanNode(false), "the prompt is not echoed");
        f.onlyDefault("best_of", JsonNodeFactory.instance.numberNode(1), "one candidate per choice");
        f.onlyDefault("suffix", JsonNodeFactory.instance.nullNode(), "no insertion");
        List<GenerationRequest.Prompt> prompts = new ArrayList<>();
        for (String t : texts) {
            int[] ids = ChatPrompt.encodePlain(tokenizer, t, "");
            if (ids.length == 0) throw ApiException.badRequest("prompt", "a prompt is empty");
            prompts.add(prompt(ids, ids.length - 1, "prompt"));
        }
        return common(f, text, model, prompts, COMPLETIONS_DEFAULT_MAX_TOKENS, top, null);
    }

    /** The fields both endpoints share: sampling, stop, n, stream, steering. */
    private GenerationRequest common(RequestFields f, Dialect dialect, String model,
                                     List<GenerationRequest.Prompt> prompts, int defaultMax, int topLogprobs,
                                     GenerationRequest.Judging judging) {
        int longest = 0;
        for (GenerationRequest.Prompt p : prompts) longest = Math.max(longest, p.ids().length);
        String budgetField = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (f.has("max_completion_tokens") && f.has("max_tokens")) {
            throw ApiException.badRequest("max_tokens", "give 'max_tokens' or 'max_completion_tokens', not both");
        }
        int maxTokens = (int) f.integer(budgetField, 1, limits.maxTokens(), Math.min(defaultMax, limits.maxTokens()));
        if (f.has(budgetField) && longest + maxTokens > context) {
            throw ApiException.badRequest(budgetField, "context_length_exceeded", "This model's maximum context length is "
                    + context + " tokens. However, you requested " + (longest + maxTokens) + " tokens ("
                    + longest + " in the prompt, " + maxTokens + " for the completion).");
        }
        maxTokens = Math.max(1, Math.min(maxTokens, context - longest));
        double temperature = f.number("temperature", 0, 2, 1);
        double topP = f.number("top_p", 0, 1, 1);
        if (topP == 0) throw ApiException.badRequest("top_p", "'top_p' must be greater than 0");
        long topK = f.integer("top_k", -1, Integer.MAX_VALUE, 0);
        double minP = f.number("min_p", 0, 1, 0);
        double repetition = f.number("repetition_penalty", 0, 10, 1);
        if (repetition == 0) throw ApiException.badRequest("repetition_penalty", "'repetition_penalty' must be greater than 0");
        f.onlyDefault("frequency_penalty", JsonNodeFactory.instance.numberNode(0), "use repetition_penalty");
        f.onlyDefault("presence_penalty", JsonNodeFactory.instance.numberNode(0), "use repetition_penalty");
        f.onlyDefault("logit_bias", JsonNodeFactory.instance.objectNode(), "no logit bias");
        List<String> stops = f.strings("stop", MAX_STOPS);
        for (String s : stops) if (s.isEmpty()) throw ApiException.badRequest("stop", "a stop sequence is empty");
        boolean seeded = f.has("seed");
        long seed = seeded ? f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, 0) : ThreadLocalRandom.current().nextLong() >>> 16;
        int n = (int) f.integer("n", 1, limits.maxChoices(), 1);
        if (prompts.size() * n > limits.maxChoices()) {
            throw ApiException.badRequest("n", "at most " + limits.maxChoices() + " choices per request (prompts x n), got "
                    + prompts.size() * n);
        }
        boolean stream = f.bool("stream", false);
        boolean includeUsage = false;
        JsonNode options = f.node("stream_options");
        if (options != null) {
            if (!stream) throw ApiException.badRequest("stream_options", "'stream_options' needs 'stream' set to true");
            if (!options.isObject()) throw ApiException.badRequest("stream_options", "'stream_options' must be an object");
            RequestFields o = new RequestFields((ObjectNode) options);
            includeUsage = o.bool("include_usage", false);
            o.ignore("include_obfuscation");
            o.rejectUnknown();
        }
        Steering composed = steering(f);
        f.ignore("user", "metadata", "store", "service_tier");
        f.rejectUnknown();

        SamplingParams params = new SamplingParams(maxTokens, temperature, (int) Math.max(0, topK), topP, minP,
                repetition, seed, stops);
        return new GenerationRequest(dialect, model, prompts, params, seeded, n,
                composed, topLogprobs, stream, includeUsage, judging);
    }

    private String model(RequestFields f) {
        String model = f.requiredString("model");
        if (!model.equals(modelName)) {
            throw ApiException.notFound("model_not_found", "The model '" + model + "' does not exist; this server "
                    + "serves '" + modelName + "'.");
        }
        return model;
    }

    private GenerationRequest.Prompt prompt(int[] ids, int promptEnd, String field) {
        if (ids.length >= context) {
            throw ApiException.badRequest(field, "context_length_exceeded", "This model's maximum context length is "
                    + context + " tokens. However, your prompt is " + ids.length + " tokens, which leaves no room "
                    + "for the completion.");
        }
        return new GenerationRequest.Prompt(ids, promptEnd);
    }

    /** {@code messages}: roles system/developer, user, assistant; content a string or a list of text parts. */
    private static List<ChatMessage> messages(JsonNode node) {
        if (node == null) throw ApiException.badRequest("messages", "'messages' is required");
        if (!node.isArray() || node.isEmpty()) {
            throw ApiException.badRequest("messages", "'messages' must be a non-empty list");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String where = "messages[" + i + "]";
            JsonNode m = node.get(i);
            if (!m.isObject()) throw ApiException.badRequest(where, where + " must be an object");
            RequestFields f = new RequestFields((ObjectNode) m);
            String role = f.requiredString("role");
            role = switch (role) {
                case "system", "developer" -> "system";     // OpenAI's newer name for the system turn
                case "user", "assistant" -> role;
                default -> throw ApiException.badRequest(where + ".role", "role '" + role
                        + "' is not supported (system, developer, user, assistant)");
            };
            String content = content(f.node("content"), where + ".content");
            f.ignore("name");
            f.onlyDefault("tool_calls", JsonNodeFactory.instance.arrayNode(), "no tool calling");
            f.rejectUnknown();
            out.add(new ChatMessage(role, content));
        }
        return out;
    }

    private static String content(JsonNode c, String where) {
        if (c == null) throw ApiException.badRequest(where, where + " is required");
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw ApiException.badRequest(where, where + " must be a string or a list of text parts");
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                throw ApiException.badRequest(where, where + ": only {\"type\": \"text\", \"text\": ...} parts are supported");
            }
            sb.append(part.get("text").asText());
        }
        return sb.toString();
    }

    /** {@code steering} and {@code steering_default}, composed with the server's default steering. */
    private Steering steering(RequestFields f) {
        boolean useDefault = f.bool("steering_default", true);
        JsonNode list = f.node("steering");
        List<VectorScale> requested = new ArrayList<>();
        if (list != null) {
            if (!list.isArray()) {
                throw ApiException.badRequest("steering", "'steering' must be a list of {\"vector\": NAME, \"scale\": X}");
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode item = list.get(i);
                String where = "steering[" + i + "]";
                if (!item.isObject()) throw ApiException.badRequest(where, where + " must be {\"vector\": NAME, \"scale\": X}");
                RequestFields v = new RequestFields((ObjectNode) item);
                String name = v.string("vector", null);
                if (name == null) throw ApiException.badRequest(where + ".vector", where + ".vector is required");
                Float scale = null;
                if (v.has("scale")) {
                    double s = v.number("scale", -1e6, 1e6, 0);
                    scale = (float) s;
                }
                SteeringPolicy.When when = v.has("when") ? when(v.node("when"), where + ".when") : null;
                v.rejectUnknown();
                requested.add(new VectorScale(name, scale, when));
            }
        }
        try {
            return steering.compose(requested, useDefault);
        } catch (InvalidInputException e) {
            throw ApiException.badRequest("steering", codeOf(e), PublicMessage.of(e.getMessage()));
        }
    }

    /** {@code {"probe": NAME, "above": T}} or {@code {"probe": NAME, "soft": true}}. */
    private static SteeringPolicy.When when(JsonNode node, String where) {
        String form = where + " must be {\"probe\": NAME, \"above\": T} or {\"probe\": NAME, \"soft\": true}";
        if (node == null || !node.isObject()) throw ApiException.badRequest(where, form);
        RequestFields w = new RequestFields((ObjectNode) node);
        String probe = w.string("probe", null);
        if (probe == null) throw ApiException.badRequest(where + ".probe", where + ".probe is required");
        boolean soft = w.bool("soft", false);
        Double above = w.has("above") ? w.number("above", 0, 1, 0) : null;
        w.rejectUnknown();
        if (soft == (above != null)) throw ApiException.badRequest(where, form + " (one of above and soft)");
        return new SteeringPolicy.When(probe, above, soft);
    }

    private static String codeOf(InvalidInputException e) {
        if (e.getMessage().startsWith("unknown probe")) return "unknown_probe";
        return e.getMessage().startsWith("unknown steering vector") ? "unknown_vector" : null;
    }
}
