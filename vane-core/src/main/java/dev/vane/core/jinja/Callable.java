package dev.vane.core.jinja;

import java.util.List;
import java.util.Map;

/**
 * Something a template can call: a global function ({@code range}, {@code namespace}, {@code raise_exception}),
 * a method bound to a value ({@code content.strip}), a macro, or {@code loop} of a recursive loop.
 */
interface Callable {
    Object call(Arguments arguments, Renderer renderer);

    /** Positional and keyword arguments of one call, evaluated. */
    record Arguments(List<Object> positional, Map<String, Object> named) {
        static final Arguments NONE = new Arguments(List.of(), Map.of());

        /** Argument {@code index}, or the keyword {@code name}, or {@code fallback}. */
        Object get(int index, String name, Object fallback) {
            if (index >= 0 && index < positional.size()) return positional.get(index);
            return named.getOrDefault(name, fallback);
        }

        /** Fails unless there are at most {@code max} positional arguments and only the given keywords. */
        Arguments expect(String function, int max, String... keywords) {
            if (positional.size() > max) {
                throw TemplateError.of(function + "() takes at most " + max + " arguments (" + positional.size() + " given)");
            }
            for (String key : named.keySet()) {
                if (!List.of(keywords).contains(key)) {
                    throw TemplateError.of(function + "() got an unexpected keyword argument '" + key + "'");
                }
            }
            return this;
        }
    }
}
