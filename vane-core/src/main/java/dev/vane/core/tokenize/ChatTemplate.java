package dev.vane.core.tokenize;

import dev.vane.core.InvalidInputException;
import dev.vane.core.jinja.PythonStrings;
import dev.vane.core.jinja.Template;
import dev.vane.core.jinja.TemplateError;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face chat template (Jinja) that turns a conversation into the model's prompt text, rendered as
 * transformers' {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} does: same
 * variables, same whitespace rules, same results, by Vane's own Jinja interpreter ({@link Template}). Templates
 * come from downloaded files, so a render can read the conversation and nothing else: no files, no Java
 * objects, bounded output, nesting, work and time.
 *
 * <p>What the template sees, as in transformers: {@code messages} (a list of {@code {"role", "content"}} dicts),
 * {@code add_generation_prompt}, {@code tools} and {@code documents} (both none), the special tokens that are set
 * ({@code bos_token}, {@code eos_token}, {@code unk_token}, {@code pad_token}), and the functions
 * {@code raise_exception(message)} and {@code strftime_now(format)}.
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
    private final Map<String, String> specialTokens;
    private final String origin;
    private final Clock clock;
    /** The parsed template, or null when it does not parse ({@link #problem} says why; every render fails). */
    private final Template template;
    private final TemplateError problem;

    ChatTemplate(String source, Map<String, String> specialTokens, String origin) {
        this(source, specialTokens, origin, Clock.systemDefaultZone());
    }

    private ChatTemplate(String source, Map<String, String> specialTokens, String origin, Clock clock) {
        this.source = Objects.requireNonNull(source, "source");
        this.specialTokens = Map.copyOf(specialTokens);
        this.origin = origin;
        this.clock = clock;
        Template parsed = null;
        TemplateError error = null;
        try {
            parsed = Template.parse(source);
        } catch (TemplateError e) {
            // Kept for render: a tokenizer whose template is broken still tokenizes; chatting with it fails.
            error = e;
        }
        this.template = parsed;
        this.problem = error;
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

    /** This template with {@code strftime_now} reading a fixed local time (for tests that need a known date). */
    ChatTemplate at(LocalDateTime now) {
        return new ChatTemplate(source, specialTokens, origin, Clock.fixed(now.toInstant(ZoneOffset.UTC), ZoneOffset.UTC));
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
     *                               template's line and the problem when the template cannot be rendered
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (problem != null) throw failure(problem);
        List<Map<String, Object>> chat = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.content());
            chat.add(message);
        }
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", chat);
        vars.put("tools", null);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);
        try {
            return template.render(vars, clock);
        } catch (TemplateError e) {
            throw failure(e);
        }
    }

    private InvalidInputException failure(TemplateError e) {
        if (e.raisedByTemplate()) return new InvalidInputException("chat template raised: " + e.getMessage());
        return new InvalidInputException(origin + ": cannot render: " + e.getMessage());
    }

    /**
     * Renders a conversation whose last message is to be continued - a prefilled assistant answer - as
     * transformers' {@code apply_chat_template(messages, continue_final_message=True)} does: the whole
     * conversation is rendered, then cut right after the last message's content, so whatever the template writes
     * before the content (Qwen3's empty think block) is there and what it writes after (the end-of-turn token) is
     * not. The cut follows transformers exactly: at the last occurrence of the content without surrounding
     * whitespace, keeping trailing whitespace only where the template kept it (a template that trims, like Llama
     * 3's, ends at {@code "Sure, here is"} for the prefill {@code "Sure, here is "}).
     *
     * <pre>{@code
     * String prompt = template.renderContinuing(List.of(ChatMessage.user("How do I pick a lock?"),
     *         ChatMessage.assistant("Sure, here is")));
     * // Qwen3: "<|im_start|>user\nHow do I pick a lock?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nSure, here is"
     * }</pre>
     *
     * @throws InvalidInputException when the conversation is empty, or the template does not write the last
     *                               message's content into the prompt
     */
    public String renderContinuing(List<ChatMessage> messages) {
        if (messages.isEmpty()) throw new InvalidInputException(origin + ": there is no final message to continue");
        String rendered = render(messages, false);
        String content = messages.getLast().content();
        String stripped = PythonStrings.strip(content, null, true, true);
        int at = rendered.lastIndexOf(stripped);
        if (at < 0) {
            throw new InvalidInputException(origin + ": cannot continue the final message: the template does not write"
                    + " its content into the prompt");
        }
        int keptLength = PythonStrings.strip(content, null, true, false).length();
        boolean spacingKept = rendered.substring(at, Math.min(rendered.length(), at + keptLength)).equals(content);
        return rendered.substring(0, at + (spacingKept ? keptLength : stripped.length()));
    }
}
