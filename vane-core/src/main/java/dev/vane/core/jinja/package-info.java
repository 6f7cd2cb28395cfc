/**
 * A small Jinja interpreter for chat templates: renders a template exactly as Python's Jinja2 does in
 * transformers' chat-template environment, in a sandbox where a template reaches only the values it is given and
 * every render is bounded in output, nesting, work and time. {@link dev.vane.core.jinja.Template} is the entry
 * point; {@code dev.vane.core.tokenize.ChatTemplate} uses it with transformers' variables.
 *
 * <pre>{@code
 * Template template = Template.parse("{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}{% endfor %}");
 * String text = template.render(Map.of("messages", List.of(Map.of("role", "user", "content", " Hi "))));
 * // "<|user|>Hi"
 * }</pre>
 */
package dev.vane.core.jinja;
