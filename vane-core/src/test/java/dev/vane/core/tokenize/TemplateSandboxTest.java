package dev.vane.core.tokenize;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Chat templates come from downloaded files: a render may read the conversation and nothing else, and must end
 * quickly whatever the template does. Each hostile template here is refused with a message naming the problem,
 * in well under two seconds and without exhausting memory or the stack (issue 15 measured minutes, gigabytes
 * and StackOverflowErrors for several of them with jinjava).
 */
class TemplateSandboxTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.user("Hi"));
    private static final Map<String, String> TIMINGS = new TreeMap<>();

    private static String render(String template) {
        return ChatTemplate.of(template, Map.of("bos_token", "<s>")).render(CHAT, true);
    }

    /** A hostile template and what its error must say ({@code a|b}: either). */
    record Hostile(String name, String template, String problem) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Hostile> hostileTemplates() {
        return Stream.of(
                new Hostile("center 2e9", "{{ 'a'|center(2000000000) }}", "would exceed the limit"),
                new Hostile("indent 2e6 on many lines", "{{ ('a\\n' * 1000)|indent(2000000) }}", "would exceed the limit"),
                new Hostile("string doubling", "{% set ns = namespace(s='x' * 1000) %}{% for i in range(40) %}"
                        + "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "would exceed the limit"),
                new Hostile("string repetition", "{{ 'abc' * 1000000000 }}", "would exceed the limit"),
                new Hostile("list repetition", "{{ [1] * 1000000000 }}", "would exceed the limit"),
                new Hostile("range 1e9", "{{ range(1000000000)|length }}", "Range too big"),
                new Hostile("strftime 2 MB format, output over the limit", "{{ strftime_now('%c' * 1000000) }}", "would exceed the limit"),
                new Hostile("billion iterations", "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                        + "{% endfor %}{% endfor %}{% endfor %}", "list items in all|steps of work|ran out of time"),
                new Hostile("thousands of 4 MB strings kept", "{% set ns = namespace(s='x' * 4000000, l=[]) %}"
                        + "{% for i in range(100000) %}{% set ns.l = ns.l + [ns.s ~ i] %}{% endfor %}", "characters of strings in all"),
                new Hostile("quadratic list growth", "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
                        + "{% set ns.l = ns.l + [i] %}{% endfor %}", "list items in all"),
                new Hostile("a hundred ranges kept", "{% set ns = namespace(l=[]) %}{% for i in range(100) %}"
                        + "{% set ns.l = ns.l + [range(100000)] %}{% endfor %}", "list items in all"),
                new Hostile("if x 20000", "{% if true %}".repeat(20_000) + "x" + "{% endif %}".repeat(20_000), "nests more than"),
                new Hostile("for x 5000", "{% for x in [1] %}".repeat(5_000) + "x" + "{% endfor %}".repeat(5_000), "nests more than"),
                new Hostile("[ x 50000", "{{ " + "[".repeat(50_000) + " }}", "nested more than"),
                new Hostile("|upper x 100000", "{{ 'a'" + "|upper".repeat(100_000) + " }}", "nests more than"),
                new Hostile("( x 1000", "{{ " + "(".repeat(1_000) + "1" + ")".repeat(1_000) + " }}", "nested more than"),
                new Hostile("( x 50000", "{{ " + "(".repeat(50_000) + "1" + ")".repeat(50_000) + " }}", "nested more than"),
                new Hostile("not x 100000", "{{ " + "not ".repeat(100_000) + "1 }}", "nests more than"),
                new Hostile("a ~ a x 100000", "{{ 'a'" + " ~ 'a'".repeat(100_000) + " }}", "nests more than"),
                new Hostile("unbounded macro recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macro calls nested"),
                new Hostile("deeply nested value printed", "{% set ns = namespace(l=[]) %}{% for i in range(5000) %}"
                        + "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l }}", "nested more than"),
                new Hostile("deeply nested value compared", "{% set ns = namespace(l=[]) %}{% for i in range(5000) %}"
                        + "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l == ns.l }}", "nested more than"),
                new Hostile("deeply nested value as JSON", "{% set ns = namespace(l=[]) %}{% for i in range(5000) %}"
                        + "{% set ns.l = [ns.l] %}{% endfor %}{{ ns.l|tojson }}", "nested more than"),
                new Hostile("2 ** 100000000", "{{ 2 ** 100000000 }}", "is too large"),
                new Hostile("''.__class__", "{{ ''.__class__ }}", "unsafe"),
                new Hostile("cycler.__init__.__globals__", "{{ cycler.__init__.__globals__ }}", "unsafe"),
                new Hostile("messages.__class__ via item", "{{ messages['__class__'] }}", "unsafe"),
                new Hostile("Java method", "{{ ''.getClass().forName('java.lang.Runtime') }}", "has no attribute 'getClass'"),
                new Hostile("interpreter object", "{{ ____int3rpr3t3r____.getConfig() }}", "'____int3rpr3t3r____' is undefined"),
                new Hostile("append to the conversation", "{{ messages.append(messages[0]) }}", "has no attribute 'append'"),
                new Hostile("update a message", "{{ messages[0].update({'role': 'x'}) }}", "has no attribute 'update'"),
                new Hostile("include", "{% include 'META-INF/MANIFEST.MF' %}", "'include' tag is not allowed"),
                new Hostile("import", "{% import 'macros.j2' as m %}", "'import' tag is not allowed"),
                new Hostile("from", "{% from 'macros.j2' import m %}", "'from' tag is not allowed"),
                new Hostile("extends", "{% extends 'base.j2' %}", "'extends' tag is not allowed"),
                new Hostile("do", "{% do messages.append(1) %}", "'do' tag is not allowed"),
                new Hostile("unknown filter", "{{ '{{ 7 * 7 }}' | render }}", "no filter named 'render'"));
    }

    @ParameterizedTest
    @MethodSource("hostileTemplates")
    void hostileTemplatesFailFastWithTheProblem(Hostile hostile) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> render(hostile.template()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("chat template: cannot render: ")
                // a runaway loop stops at a budget, or at the time limit first on a loaded machine
                .satisfies(e -> assertThat(e.getMessage()).containsAnyOf(hostile.problem().split("\\|")));
        double seconds = (System.nanoTime() - start) / 1e9;
        TIMINGS.put(hostile.name(), String.format("%.3f s", seconds));
        assertThat(seconds).as(hostile.name()).isLessThan(2.5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ ____int3rpr3t3r____ }}", "{{ ''.class }}", "{{ messages.class }}", "{{ ''.bytes }}"})
    void javaNamesAreUndefinedLikeAnyUnknownName(String template) {
        // What Jinja2 prints for an unknown variable or attribute: nothing, and no Java object is reached.
        assertThat(render(template)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ range(5000)|length }}", "{{ range(5000)|list|length }}"})
    void largeButAllowedValuesAreExact(String template) {
        assertThat(render(template)).isEqualTo("5000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{ messages|pprint }}", "{{ messages }}"})
    void valuesPrintAsPython(String template) {
        assertThat(render(template)).isEqualTo("[{'role': 'user', 'content': 'Hi'}]");
    }

    @ParameterizedTest
    @ValueSource(ints = {20, 60})
    void boundedRecursionStillWorks(int depth) {
        assertThat(render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}bottom{% endif %}{% endmacro %}{{ f("
                + depth + ") }}")).isEqualTo("bottom");
    }

    @AfterAll
    static void printTimings() {
        StringBuilder out = new StringBuilder("hostile templates (time to the error):\n");
        TIMINGS.forEach((name, time) -> out.append(String.format("  %-45s %s%n", name, time)));
        System.out.print(out);
    }
}
