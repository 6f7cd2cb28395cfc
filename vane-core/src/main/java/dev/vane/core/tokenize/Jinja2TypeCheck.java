package dev.vane.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.objects.SafeString;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The Jinja2 type tests ({@code x is iterable}) whose answer differs in jinjava, with Python's meaning: a string is
 * {@code iterable} and a {@code sequence} (Llama 3.1's template tests {@code message.content is iterable} to decide
 * whether to JSON-encode a tool result), and a bool is a {@code number}.
 *
 * <pre>{@code
 * {% if message.content is mapping or message.content is iterable %}{{ message.content | tojson }}{% endif %}
 * }</pre>
 */
final class Jinja2TypeCheck implements ExpTest {
    /** The tests to register in place of jinjava's. */
    static final List<Jinja2TypeCheck> ALL = List.of(
            new Jinja2TypeCheck("iterable", Jinja2TypeCheck::isIterable),
            new Jinja2TypeCheck("sequence", Jinja2TypeCheck::isIterable), // str, list, tuple and dict all have len and []
            new Jinja2TypeCheck("number", v -> v instanceof Number || v instanceof Boolean));

    private final String name;
    private final Predicate<Object> test;

    private Jinja2TypeCheck(String name, Predicate<Object> test) {
        this.name = name;
        this.test = test;
    }

    private static boolean isIterable(Object v) {
        return v instanceof String || v instanceof SafeString || v instanceof Iterable<?> || v instanceof Map<?, ?>
                || (v != null && v.getClass().isArray());
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
        return test.test(var);
    }
}
