package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The Python methods a template may call on its values, which are the ones {@code ImmutableSandboxedEnvironment}
 * leaves callable and chat templates use: the {@code str} methods of {@link PythonStrings}, {@code dict.get},
 * {@code items}, {@code keys}, {@code values}, and {@code list.index}, {@code count}. Methods that would modify
 * a value ({@code append}, {@code update}, {@code pop}) are not there, as in transformers' sandbox.
 *
 * <pre>{@code
 * {{ message.content.strip() }}   {% for k, v in tool.items() %}   {{ message.get('name', 'user') }}
 * }</pre>
 */
final class Methods {
    private Methods() {
    }

    /** The method {@code name} of {@code target} bound to it, or null if it has none. */
    static Callable bind(Object target, String name) {
        if (target instanceof String s && PythonStrings.METHODS.contains(name)) {
            return (arguments, renderer) -> stringMethod(s, name, arguments);
        }
        if (target instanceof Map<?, ?> map) {
            return switch (name) {
                case "get" -> (arguments, renderer) -> {
                    arguments.expect("get", 2);
                    if (arguments.positional().isEmpty()) throw TemplateError.of("get expected at least 1 argument, got 0");
                    Object key = Values.findKey(map, Access.hashable(arguments.positional().getFirst()));
                    return key != Values.MISSING ? map.get(key) : arguments.get(1, "", null);
                };
                case "items" -> (arguments, renderer) -> {
                    arguments.expect("items", 0);
                    List<Object> items = new ArrayList<>(map.size());
                    map.forEach((k, v) -> items.add(Tuple.of(k, v)));
                    return items;
                };
                case "keys" -> (arguments, renderer) -> new ArrayList<Object>(map.keySet());
                case "values" -> (arguments, renderer) -> new ArrayList<Object>(map.values());
                default -> null;
            };
        }
        if (target instanceof List<?> list) {
            return switch (name) {
                case "index" -> (arguments, renderer) -> {
                    arguments.expect("index", 1);
                    for (int i = 0; i < list.size(); i++) {
                        if (Values.equal(list.get(i), arguments.get(0, "", null))) return (long) i;
                    }
                    throw TemplateError.of(Values.repr(arguments.get(0, "", null)) + " is not in list");
                };
                case "count" -> (arguments, renderer) -> {
                    arguments.expect("count", 1);
                    long n = 0;
                    for (Object item : list) {
                        if (Values.equal(item, arguments.get(0, "", null))) n++;
                    }
                    return n;
                };
                default -> null;
            };
        }
        return null;
    }

    private static Object stringMethod(String s, String name, Callable.Arguments arguments) {
        if (!arguments.named().isEmpty()) {
            throw TemplateError.of(name + "() takes no keyword arguments");
        }
        Object[] args = arguments.positional().toArray();
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof Long l) args[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
        }
        checkSize(s, name, args);
        try {
            return value(PythonStrings.call(s, name, args));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw TemplateError.of(name + "(): " + e.getMessage());
        }
    }

    /** Refuses, before any work, a call whose result would be longer than a string may be. */
    private static void checkSize(String s, String name, Object[] args) {
        switch (name) {
            case "upper", "lower", "title", "capitalize" -> Budget.checkLength(3L * s.length());
            case "replace" -> {
                if (args.length >= 2 && args[0] instanceof String old && args[1] instanceof String replacement) {
                    long occurrences = old.isEmpty() ? s.length() + 1L : s.split(java.util.regex.Pattern.quote(old), -1).length - 1L;
                    Budget.checkLength(s.length() + occurrences * Math.max(0, replacement.length() - old.length()));
                }
            }
            case "join" -> {
                if (args.length == 1 && args[0] instanceof Collection<?> items) {
                    long total = (long) s.length() * items.size();
                    for (Object item : items) total += item instanceof String x ? x.length() : 0;
                    Budget.checkLength(total);
                }
            }
            default -> {
            }
        }
    }

    /** Java results of {@link PythonStrings} as template values: integers are {@link Long}. */
    private static Object value(Object v) {
        if (v instanceof Integer i) return (long) i;
        if (v instanceof List<?> l) return new ArrayList<Object>(l);
        return v;
    }
}
