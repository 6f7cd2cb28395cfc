package dev.vane.core.tokenize;

import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Chat templates rendered as transformers renders them. The expected texts of the hand-written templates below
 * were produced by Jinja2 3.1.6 in transformers' environment ({@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True, extensions=[loopcontrols])}, its tojson, raise_exception and strftime_now), with
 * {@link #CHAT} as {@code messages}, {@code add_generation_prompt=True}, {@code bos_token="<s>"},
 * {@code eos_token="</s>"}. Each exercises something a Jinja engine other than Jinja2 easily gets wrong (jinjava
 * got each of them wrong).
 */
class ChatTemplateTest {
    static final List<ChatMessage> CHAT = List.of(
            ChatMessage.system("Be brief."),
            ChatMessage.user("  Hi there  "),
            ChatMessage.assistant("Hello!"),
            ChatMessage.user("Tell me: 1, 2, 3?"));

    static final Map<String, String> TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>");

    record Jinja2Case(String name, String template, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Jinja2Case jinja2(String name, String template, String expected) {
        return new Jinja2Case(name, template, expected);
    }

    static Stream<Jinja2Case> jinja2Cases() {
        return Stream.of(
                jinja2("loopFilter",
                        "{% for m in messages if m.role != 'system' %}{{ loop.index }}/{{ loop.length }} {{ m.role }}{% if loop.first %} first{% endif %}{% if loop.last %} last{% else %}, {% endif %}{% endfor %}",
                        "1/3 user first, 2/3 assistant, 3/3 user last"),
                jinja2("loopFilterIndex0Revindex",
                        "{% for m in messages if m['role'] == 'user' and 'Tell' not in m['content'] or m.role == 'assistant' %}[{{ loop.index0 }}|{{ loop.revindex }}|{{ loop.revindex0 }}|{{ m.content|trim }}]{% endfor %}",
                        "[0|2|1|Hi there][1|1|0|Hello!]"),
                jinja2("loopFilterNested",
                        "{% for m in messages if m.role in ['user', 'assistant'] %}{% for w in m.content.split() if w|length > 2 %}{{ loop.index }}{{ w }}{{ ';' if not loop.last }}{% endfor %}|{% endfor %}",
                        "1there|1Hello!|1Tell;2me:|"),
                jinja2("loopFilterTuple",
                        "{% for k, v in messages[1].items() if k != 'role' %}{{ k }}={{ v }} {{ 'L' if loop.last }}{% endfor %}",
                        "content=  Hi there   L"),
                jinja2("loopFilterNoneKept",
                        "{% for m in messages if m.role == 'tool' %}{{ m }}{% else %}none{% endfor %}",
                        "none"),
                jinja2("blocks",
                        "{% for message in messages %}\n"
                        + "    {% if message['role'] == 'system' %}\n"
                        + "        <<{{ message['content'] }}>>\n"
                        + "    {% else %}\n"
                        + "        {{ message['role'] }}: {{ message['content'] | trim }}\n"
                        + "    {% endif %}\n"
                        + "{# a comment\n"
                        + "   on two lines #}\n"
                        + "{% endfor %}\n"
                        + "{%- if add_generation_prompt %}\n"
                        + "  assistant:\n"
                        + "{%- endif %}\n",
                        "        <<Be brief.>>\n"
                        + "        user: Hi there\n"
                        + "        assistant: Hello!\n"
                        + "        user: Tell me: 1, 2, 3?\n"
                        + "  assistant:"),
                jinja2("whitespaceControl",
                        "A  {%- if true %}  B  {% endif -%}  C {{- ' D ' -}} E\n"
                        + "  {%+ if true %}F{% endif %}\n"
                        + "{{ bos_token }}  \n",
                        "A  B  C D E\n"
                        + "  F<s>  "),
                jinja2("strings",
                        "{{ messages[1].content.strip() }}|{{ messages[1].content.lstrip() }}|{{ messages[1].content.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'y' if messages[0].content.startswith('Be') }}|{{ 'y' if messages[0].content.endswith('.') }}|{{ 'y' if messages[0].content.startswith(('No', 'Be')) }}|{{ 'n' if not 'abc'.endswith('x') }}|{{ messages[3].content.split(', ') }}|{{ messages[3].content.split() }}|{{ ' a  b  c '.split(None, 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ messages[0].content.upper() }}|{{ messages[0].content.lower() }}|{{ messages[3].content.replace(',', ';') }}|{{ 'a-a-a'.replace('-', '+', 1) }}|{{ 'hello wORLD'.title() }}|{{ 'hello wORLD'.capitalize() }}|{{ '-'.join(['x', 'y']) }}|{{ 'banana'.count('an') }}|{{ 'banana'.find('n') }}|{{ 'a\\nb'.splitlines() }}|{{ '\\u00a0x\\u3000'.strip() }}|{{ messages[0].content[0] }}{{ messages[0].content[-1] }}{{ messages[0].content[3:] }}",
                        "Hi there|Hi there  |  Hi there|hi|y|y|y|n|['Tell me: 1', '2', '3?']|['Tell', 'me:', '1,', '2,', '3?']|['a', 'b  c ']|['a,b', 'c']|BE BRIEF.|be brief.|Tell me: 1; 2; 3?|a+a-a|Hello World|Hello world|x-y|2|2|['a', 'b']|x|B.brief."),
                jinja2("tojson",
                        "{{ messages[1] | tojson }}|{{ {'text': 'caf\\u00e9 \"q\" \\\\ \\n\\t', 'n': [1, 2.5, 1.0, 0.00001, none, true, false]} | tojson }}|{{ {'b': 1, 'a': [1, {'c': []}], 'e': {}} | tojson(indent=2) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}",
                        "{\"role\": \"user\", \"content\": \"  Hi there  \"}|{\"text\": \"caf\u00e9 \\\"q\\\" \\\\ \\n\\t\", \"n\": [1, 2.5, 1.0, 1e-05, null, true, false]}|{\n"
                        + "  \"b\": 1,\n"
                        + "  \"a\": [\n"
                        + "    1,\n"
                        + "    {\n"
                        + "      \"c\": []\n"
                        + "    }\n"
                        + "  ],\n"
                        + "  \"e\": {}\n"
                        + "}|{\"a\": 2, \"b\": 1}"),
                jinja2("namespace",
                        "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ 'found' if ns.found }} {{ ns.count }}",
                        "found 4"),
                jinja2("concat",
                        "{{ '<|' + messages[0]['role'] + '|>\\n' + messages[1].content | trim + eos_token }}{{ 'x' ~ 1 ~ (none is none) | string | length }}",
                        "<|system|>\n"
                        + "Hi there</s>x14"),
                jinja2("dictMethods",
                        "{{ messages[0].get('role') }} {{ messages[0].get('name', 'anon') }} {{ messages[0].keys() | list | length }} {{ messages[0].values() | list | first }} {{ messages.index(messages[1]) }} {{ messages.count(messages[2]) }}",
                        "system anon 2 system 1 1"),
                jinja2("loopControls",
                        "{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}{% if loop.index > 3 %}{% break %}{% endif %}{{ m.role }} {% endfor %}",
                        "user assistant "),
                jinja2("macro",
                        "{% macro render(m, sep=': ') %}{{ m.role }}{{ sep }}{{ m.content | trim }}{% endmacro %}{% for m in messages %}{{ render(m) }}|{{ render(m, sep='=') }}\n"
                        + "{% endfor %}",
                        "system: Be brief.|system=Be brief.\n"
                        + "user: Hi there|user=Hi there\n"
                        + "assistant: Hello!|assistant=Hello!\n"
                        + "user: Tell me: 1, 2, 3?|user=Tell me: 1, 2, 3?\n"),
                jinja2("tests",
                        "{{ [messages[0].content is string, messages is sequence, messages[0] is mapping, messages[0].tool_calls is defined, 3 is odd, 'x' is string, 1 is string] | map('string') | map('length') | join(',') }} {{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('+') }} {{ messages | length }} {{ messages[1:] | length }} {{ messages[-1].role }} {{ (messages | last).role }}",
                        "4,4,4,5,4,4,5   Hi there  +Tell me: 1, 2, 3? 4 3 user user"),
                jinja2("noTrailingNewlineStripFromOutput",
                        "{% for m in messages %}{{ m.role + '\\n' }}{% endfor %}\n",
                        "system\n"
                        + "user\n"
                        + "assistant\n"
                        + "user\n"),
                jinja2("crlf",
                        "{% if true %}\r\n"
                        + "A\r\n"
                        + "{% endif %}\r\n"
                        + "B\r\n",
                        "A\n"
                        + "B"),
                jinja2("inOperator",
                        "{{ 'a' if 'content' in messages[0] }}{{ 'b' if 'tool_calls' in messages[0] else 'c' }}{{ 'd' if 'ell' in 'hello' }}{{ 'e' if 'user' in messages | map(attribute='role') | list }}{{ 'f' if 'x' not in 'abc' }}",
                        "acdef"),
                jinja2("typeTests",
                        "{% for m in messages %}{% if m.content is mapping or m.content is iterable %}{{ m.content | tojson }}{% endif %}{% if m is sequence %}s{% endif %}{% if 3 is number and 1.5 is number %}n{% endif %}{% if m.content is not number %}-{% endif %}{% endfor %}",
                        "\"Be brief.\"sn-\"  Hi there  \"sn-\"Hello!\"sn-\"Tell me: 1, 2, 3?\"sn-"),
                jinja2("systemSlice",
                        "{{- bos_token }}\n"
                        + "{%- if messages[0]['role'] == 'system' %}\n"
                        + "    {%- set system_message = messages[0]['content']|trim %}\n"
                        + "    {%- set messages = messages[1:] %}\n"
                        + "{%- else %}\n"
                        + "    {%- set system_message = \"\" %}\n"
                        + "{%- endif %}\n"
                        + "{{- system_message + '\\n' }}\n"
                        + "{%- for message in messages %}\n"
                        + "    {{- message.role + ': ' + message['content'] | trim + eos_token }}\n"
                        + "{%- endfor %}\n",
                        "<s>Be brief.\n"
                        + "user: Hi there</s>assistant: Hello!</s>user: Tell me: 1, 2, 3?</s>"),
                jinja2("escapes",
                        "{{ 'caf\\u00e9|\\x41|\\t|\\\\|\\'|\\d|\\U0001F600|\\101' }}{{ \"q\\\"q'\" }}",
                        "caf\u00e9|A|\t|\\|'|\\d|\ud83d\ude00|Aq\"q'"),
                jinja2("nestedDictLiterals",
                        "{{ {'a': {'b': {}}} | tojson }}{% set d = {'x': {'y': [1, {'z': 2}]}} %}{{ d.x.y[1].z }}{{ d['x']['y'][0] }}",
                        "{\"a\": {\"b\": {}}}21"),
                jinja2("forElseWithItems",
                        "{% for m in messages %}{{ m.role[0] }}{% else %}empty{% endfor %}",
                        "suau"),
                jinja2("raw",
                        "A\n"
                        + "  {% raw %}{{ not rendered }} {% if %}\n"
                        + "  {% endraw %}\n"
                        + "B",
                        "A\n"
                        + "{{ not rendered }} {% if %}\n"
                        + "B"),
                jinja2("midLineTags",
                        "{% for m in messages %}{{ m.role }} {% if loop.first %}first {% endif %}- {% endfor %}\n"
                        + "    {{ 'indented expression keeps its indent' }}\n"
                        + "    {# comment #}\n"
                        + "end",
                        "system first - user - assistant - user -     indented expression keeps its indent\n"
                        + "end")

        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jinja2Cases")
    void rendersAsJinja2(Jinja2Case c) {
        assertThat(ChatTemplate.of(c.template(), TOKENS).render(CHAT, true)).isEqualTo(c.expected());
    }

    @Test
    void loopFilterCountsOnlyTheKeptItems() {
        // loop.index, loop.first and loop.last refer to the filtered sequence, as in Jinja2; a template that
        // ignored the filter, or counted the skipped system message, would give other numbers.
        String template = "{% for m in messages if m.role != 'system' %}"
                + "{{ loop.index }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}:{{ m.role }};"
                + "{% endfor %}";
        assertThat(ChatTemplate.of(template, Map.of()).render(CHAT, false))
                .isEqualTo("1F:user;2:assistant;3L:user;");
        assertThat(ChatTemplate.of(template, Map.of()).render(List.of(ChatMessage.system("s")), false))
                .isEmpty();
        // A string is iterated by character, filter included (Jinja2: "h-\u00e9-o-").
        assertThat(ChatTemplate.of("{% for c in messages[0].content if c != 'l' %}{{ c }}-{% endfor %}", Map.of())
                .render(List.of(ChatMessage.user("h\u00e9llo")), false)).isEqualTo("h-\u00e9-o-");
    }

    @Test
    void trimAndLstripBlocksApplyOnlyWhereJinja2AppliesThem() {
        String template = """
                {% for m in messages %}
                    {% if m.role == 'user' %}
                  > {{ m.content | trim }} {% if loop.last %}(last){% endif %}
                    {% endif %}
                {% endfor %}
                """;
        // Jinja2's result: the indented tags vanish with their line, the space before the mid-line {% if %} stays,
        // and the newline after each {% endif %} (also the mid-line one) is trimmed.
        assertThat(ChatTemplate.of(template, Map.of()).render(CHAT, false))
                .isEqualTo("  > Hi there   > Tell me: 1, 2, 3? (last)");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        String template = "{% if messages[0]['role'] == 'system' %}"
                + "{{ raise_exception('System role not supported: \"' + messages[0].content + '\"') }}{% endif %}ok";
        assertThatThrownBy(() -> ChatTemplate.of(template, Map.of()).render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("chat template raised: System role not supported: \"Be brief.\"");
        assertThat(ChatTemplate.of(template, Map.of()).render(CHAT.subList(1, 2), true)).isEqualTo("ok");
    }

    @Test
    void strftimeNowGivesTodayAndIsDefined() {
        String template = "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}|{{ strftime_now('no codes') }}{% endif %}";
        String before = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH).format(LocalDate.now());
        String rendered = ChatTemplate.of(template, Map.of()).render(CHAT, true);
        String after = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH).format(LocalDate.now());
        assertThat(rendered).isIn(before + "|no codes", after + "|no codes");
    }

    @Test
    void messageTextIsNeverRenderedAsTemplate() {
        String rendered = ChatTemplate.of("{% for m in messages %}{{ m.content }}{% endfor %}", Map.of())
                .render(List.of(ChatMessage.user("{{ 7 * 7 }} {% if true %}x{% endif %}")), false);
        assertThat(rendered).isEqualTo("{{ 7 * 7 }} {% if true %}x{% endif %}");
    }

    @Test
    void errorsNameTheTemplateAndTheProblem() {
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages | no_such_filter }}", Map.of()).render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("chat template: cannot render: ")
                .hasMessageContaining("no_such_filter");
        assertThatThrownBy(() -> ChatTemplate.of("{% for m in messages %}{{ m.content.nope() }}{% endfor %}", Map.of())
                .render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("chat template: cannot render: line 1: 'str object' has no attribute 'nope'");
        assertThatThrownBy(() -> ChatTemplate.of("{%- for m in messages %}\n  {{- m.content }}\n  {{- m.content + 1 }}\n"
                        + "{%- endfor %}", Map.of()).render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("chat template: cannot render: line 3: can only concatenate str (not \"int\") to str");
        assertThatThrownBy(() -> ChatTemplate.of("{% if true %}\n{{ 'unclosed' \n{% endif %}", Map.of()).render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("chat template: cannot render: line 2: ");
        assertThatThrownBy(() -> ChatTemplate.of("{{ 'a'.split('') }}", Map.of()).render(CHAT, true))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("empty separator");
    }

    @Test
    void keepsTheSourceAsGiven() {
        String source = "{{ bos_token }}\r\n";
        assertThat(ChatTemplate.of(source, TOKENS).source()).isEqualTo(source);
        assertThat(ChatTemplate.of(source, TOKENS).render(CHAT, true)).isEqualTo("<s>");
    }
}
