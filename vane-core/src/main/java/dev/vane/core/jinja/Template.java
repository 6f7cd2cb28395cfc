package dev.vane.core.jinja;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Jinja2 template for chat formatting, parsed once and rendered as Python's Jinja2 renders it in transformers'
 * environment ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with the loop
 * controls, {@code tojson}, {@code raise_exception} and {@code strftime_now}). The interpreter is Vane's own and
 * small: it knows the statements, operators, filters, tests and methods chat templates use, and nothing else —
 * a template can reach only the values it is given, never a file, a class or the network, and every render is
 * bounded in output, nesting, work and time ({@link Budget}).
 *
 * <pre>{@code
 * Template t = Template.parse("{% for m in messages %}{{ m.role }}: {{ m.content | trim }}\n{% endfor %}");
 * String text = t.render(Map.of("messages", List.of(Map.of("role", "user", "content", " Hi "))));
 * // "user: Hi\n"
 * }</pre>
 */
public final class Template {
    /** Longest a render may run; real chat templates take well under a millisecond. */
    static final Duration MAX_TIME = Duration.ofSeconds(2);

    private final List<Node> body;

    private Template(List<Node> body) {
        this.body = body;
    }

    /**
     * Parses a template.
     *
     * @throws TemplateError naming the line and the problem: a syntax error, an unknown tag, filter or test, a
     *                       nesting deeper than the parser allows
     */
    public static Template parse(String source) {
        try {
            Parser parser = new Parser(new Lexer(source).tokens());
            List<Node> body = parser.template();
            parser.filterNames.forEach((name, line) -> {
                if (!Filters.NAMES.contains(name)) throw new TemplateError("no filter named '" + name + "'", line);
            });
            parser.testNames.forEach((name, line) -> {
                if (!Tests.NAMES.contains(name)) throw new TemplateError("no test named '" + name + "'", line);
            });
            return new Template(body);
        } catch (StackOverflowError e) { // a safety net: nesting is bounded well before this
            throw new TemplateError("the template nests too deeply", 0);
        }
    }

    /** Renders with the given variables and the system clock (for {@code strftime_now}). */
    public String render(Map<String, ?> variables) {
        return render(variables, Clock.systemDefaultZone());
    }

    /**
     * Renders with the given variables: strings, booleans, numbers, null, and lists and maps of them.
     *
     * @throws TemplateError when the template fails: its line and the problem, or, for {@code raise_exception},
     *                       the template's own message ({@link TemplateError#raisedByTemplate()})
     */
    public String render(Map<String, ?> variables, Clock clock) {
        Map<String, Object> values = new LinkedHashMap<>();
        variables.forEach((k, v) -> values.put(k, value(v)));
        try {
            return new Renderer(new Budget(Budget.MAX_STEPS, MAX_TIME), clock).render(body, values);
        } catch (StackOverflowError e) { // a safety net: nesting is bounded well before this
            throw new TemplateError("the template nests too deeply", 0);
        } catch (TemplateError e) {
            throw e;
        } catch (RuntimeException e) {
            // A safety net too: a case the interpreter does not handle still fails as a template problem (exit 2,
            // HTTP 400) with what went wrong, not as a crash of the caller.
            throw new TemplateError("the template could not be rendered (" + e + ")", 0);
        }
    }

    /** A Java value as the template sees it: integers as {@link Long}, floats as {@link Double}, lists and maps copied. */
    private static Object value(Object v) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Integer i -> (long) i;
            case Long l -> l;
            case Short s -> (long) s;
            case Float f -> (double) f;
            case Double d -> d;
            case Map<?, ?> m -> {
                Map<Object, Object> copy = new LinkedHashMap<>();
                m.forEach((k, x) -> copy.put(value(k), value(x)));
                yield copy;
            }
            case Collection<?> c -> {
                List<Object> copy = new ArrayList<>(c.size());
                for (Object x : c) copy.add(value(x));
                yield copy;
            }
            default -> throw new IllegalArgumentException("a template variable cannot be a " + v.getClass().getName());
        };
    }
}
