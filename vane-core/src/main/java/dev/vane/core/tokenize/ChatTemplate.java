package dev.vane.core.tokenize;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.vane.core.InvalidInputException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face chat template (Jinja) that turns a conversation into the model's prompt text, rendered as
 * transformers' {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} does: same
 * variables, same whitespace rules, same sandbox. Templates come from downloaded files, so a render can read
 * the conversation and nothing else: no files, no Java objects, bounded output, recursion and work.
 *
 * <p>What the template sees: {@code messages} (a list of {@code {"role", "content"}} dicts),
 * {@code add_generation_prompt}, the special tokens that are set ({@code bos_token}, {@code eos_token},
 * {@code unk_token}, {@code pad_token}), and the functions {@code raise_exception(message)} and
 * {@code strftime_now(format)}.
 *
 * <pre>{@code
 * ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
 * String prompt = template.render(List.of(ChatMessage.user("How do I bake bread?")), true);
 * // "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHow do I bake bread?<|eot_id|>"
 * //     + "<|start_header_id|>assistant<|end_header_id|>\n\n"
 * }</pre>
 */
public final class ChatTemplate {
    private final String source;
    private final String jinjaSource;
    private final Map<String, String> specialTokens;
    private final String origin;
    private final Jinjava jinjava;
    /** Why the template cannot render whatever the messages (Jinja2 would not compile it), or null. */
    private final String compileProblem;

    ChatTemplate(String source, Map<String, String> specialTokens, String origin) {
        this.source = Objects.requireNonNull(source, "source");
        TemplateSource read = TemplateSource.read(source);
        this.jinjaSource = read.jinjava();
        this.specialTokens = Map.copyOf(specialTokens);
        this.origin = origin;
        this.jinjava = TemplateEnvironment.create();
        this.compileProblem = unknownNames(read, jinjava);
    }

    /** Jinja2 refuses to compile a template that names a filter or test it does not have; jinjava renders "". */
    private static String unknownNames(TemplateSource read, Jinjava jinjava) {
        for (String name : read.filterNames()) {
            if (jinjava.getGlobalContext().getFilter(name) == null) return "no filter named '" + name + "'";
        }
        for (String name : read.testNames()) {
            if (jinjava.getGlobalContext().getExpTest(name) == null) return "no test named '" + name + "'";
        }
        return null;
    }

    /**
     * A template from its Jinja source, with the given special tokens ({@code bos_token} and so on) as variables.
     *
     * <pre>{@code
     * ChatTemplate t = ChatTemplate.of("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}",
     *         Map.of("bos_token", "<s>"));
     * }</pre>
     */
    public static ChatTemplate of(String source, Map<String, String> specialTokens) {
        return new ChatTemplate(source, specialTokens, "chat template");
    }

    /** The Jinja source as it was read. */
    public String source() {
        return source;
    }

    /**
     * Renders the conversation to prompt text.
     *
     * @param addGenerationPrompt end with the header of an assistant turn, ready for generation
     * @throws InvalidInputException {@code "chat template raised: <message>"} when the template calls
     *                               {@code raise_exception} (Gemma's "System role not supported"), or naming the
     *                               problem when the template cannot be rendered
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (compileProblem != null) throw new InvalidInputException(origin + ": cannot render: " + compileProblem);
        List<Map<String, Object>> chat = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.content());
            chat.add(message);
        }
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", chat);
        vars.put("add_generation_prompt", addGenerationPrompt);
        // Defined as variables too, so that "{% if strftime_now is defined %}" (Llama 3.1) sees them as
        // transformers' templates do; calls go to the registered functions.
        vars.put("raise_exception", "<function raise_exception>");
        vars.put("strftime_now", "<function strftime_now>");

        RenderResult result;
        synchronized (jinjava) {
            result = RenderBudget.run(TemplateEnvironment.MAX_STEPS, () -> jinjava.renderForResult(jinjaSource, vars));
        }
        for (TemplateError error : result.getErrors()) {
            TemplateFunctions.Raised raised = cause(error.getException(), TemplateFunctions.Raised.class);
            if (raised != null) throw new InvalidInputException("chat template raised: " + raised.getMessage());
            if (isFailure(error)) throw new InvalidInputException(origin + ": cannot render: " + describe(error));
        }
        return result.getOutput();
    }

    /**
     * Whether an error stops the render. jinjava reports a missing attribute as a warning and goes on, as Jinja2
     * does for undefined values; every other problem (syntax, a failing call, a limit) is an error in Jinja2.
     */
    private static boolean isFailure(TemplateError error) {
        return error.getSeverity() == TemplateError.ErrorType.FATAL
                || error.getReason() != TemplateError.ErrorReason.UNKNOWN;
    }

    private static String describe(TemplateError error) {
        RenderBudget.Exhausted exhausted = cause(error.getException(), RenderBudget.Exhausted.class);
        String message = exhausted != null ? exhausted.getMessage() : error.getMessage();
        return message + (error.getLineno() > 0 ? " (template line " + error.getLineno() + ")" : "");
    }

    private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
        for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
            if (type.isInstance(t)) return type.cast(t);
        }
        return null;
    }
}
