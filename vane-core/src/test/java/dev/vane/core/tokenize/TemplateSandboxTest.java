package dev.vane.core.tokenize;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Chat templates come from downloaded files: a render may read the conversation and nothing else. Each case
 * here works in an unsandboxed jinjava (or would run for hours) and must be refused with a clear error.
 */
class TemplateSandboxTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.user("Hi"));

    private static String render(String template) {
        return ChatTemplate.of(template, Map.of("bos_token", "<s>")).render(CHAT, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{{ ''.getClass() }}",
            "{{ ''.getClass().forName('java.lang.Runtime') }}",
            "{{ 'abc'.getBytes() }}",
            "{{ messages.getClass() }}",
            "{{ messages[0].getClass() }}",
            "{{ messages[0].entrySet() }}",
            "{{ bos_token.concat('x').hashCode() }}",
            "{% for m in messages %}{{ loop.getClass() }}{% endfor %}",
            "{{ ____int3rpr3t3r____.getConfig() }}",
            "{{ ____int3rpr3t3r____.getContext().put('x', 1) }}",
    })
    void javaMethodsAreNotReachable(String template) {
        assertThatThrownBy(() -> render(template))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("is not available in chat templates");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ ''.class }}", "{{ ''.bytes }}", "{{ messages.class }}", "{{ ''.class.name }}",
            "{{ ____int3rpr3t3r____.config }}"})
    void javaPropertiesReadAsUndefined(String template) {
        // As an unknown attribute in Jinja2: nothing, and no bean getter is called.
        assertThat(render(template)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ messages.append(messages[0]) }}", "{{ messages.pop() }}", "{{ messages[0].update({'role': 'x'}) }}",
            "{{ messages[0].clear() }}", "{% do messages.append(1) %}"})
    void conversationCannotBeModified(String template) {
        // transformers renders in Jinja2's ImmutableSandboxedEnvironment, which refuses these too.
        assertThatThrownBy(() -> render(template))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("is not available in chat templates");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{% include 'META-INF/MANIFEST.MF' %}", "{% import 'macros.j2' as m %}",
            "{% from 'macros.j2' import m %}", "{% extends 'base.j2' %}", "{{ '{{ 7 * 7 }}' | render }}"})
    void otherFilesAndNestedRenderingAreRefused(String template) {
        assertThatThrownBy(() -> render(template))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("chat template: cannot render: ")
                .hasMessageContaining("disabled");
    }

    @Test
    void resourceLocatorRefusesEverything() {
        // Second lock behind the disabled tags: even a jinjava path that asks for a resource gets nothing.
        assertThatThrownBy(() -> new RefusingResourceLocator().getString("META-INF/MANIFEST.MF",
                java.nio.charset.StandardCharsets.UTF_8, null))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("cannot load other files");
    }

    @Test
    void outputSizeIsBounded() {
        assertThatThrownBy(() -> render("{% set s = 'xxxxxxxxxxxxxxxx' %}{% for i in range(30) %}{% set s = s + s %}{% endfor %}{{ s }}"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("over limit of " + TemplateEnvironment.MAX_OUTPUT_CHARS);
    }

    @Test
    void recursionIsBounded() {
        assertThat(render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}bottom{% endif %}{% endmacro %}{{ f(20) }}"))
                .isEqualTo("bottom");
        assertThatThrownBy(() -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("Max recursion limit of " + TemplateEnvironment.MAX_MACRO_DEPTH);
    }

    @Test
    void workIsBounded() {
        // A billion iterations with no output: neither the output nor the recursion cap would stop it.
        long start = System.nanoTime();
        assertThatThrownBy(() -> render("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                + "{% endfor %}{% endfor %}{% endfor %}"))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("more than " + TemplateEnvironment.MAX_STEPS + " steps of work");
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(30);
    }
}
