package dev.vane.core.jinja;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's tests ({@code x is defined}, {@code x is string}, {@code n is divisibleby 3}) with Python's types: a
 * string is iterable and a sequence, a bool is an integer for {@code number}, but not for {@code integer}.
 *
 * <pre>{@code
 * {% if tools is not none %}   {% if message.content is string %}   {% if loop.index0 is even %}
 * }</pre>
 */
final class Tests {
    static final Set<String> NAMES = Set.of("defined", "undefined", "none", "boolean", "false", "true", "integer",
            "float", "number", "string", "mapping", "iterable", "sequence", "callable", "sameas", "escaped", "in",
            "lower", "upper", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<",
            "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "filter", "test");

    private Tests() {
    }

    static boolean apply(String name, Object v, Callable.Arguments a, Renderer renderer) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "false" -> Boolean.FALSE.equals(v);
            case "true" -> Boolean.TRUE.equals(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "number" -> Values.isNumber(v);
            case "string" -> v instanceof String;
            case "mapping" -> v instanceof Map<?, ?>;
            case "iterable" -> v instanceof String || v instanceof Collection<?> || v instanceof Map<?, ?>
                    || v instanceof Undefined;
            case "sequence" -> v instanceof String || v instanceof Collection<?> || v instanceof Map<?, ?>
                    || v instanceof Undefined;
            case "callable" -> v instanceof Callable;
            case "sameas" -> identical(v, argument(a, name));
            case "escaped" -> false;
            case "in" -> Values.contains(argument(a, name), v);
            case "lower" -> Values.str(v).equals(Values.str(v).toLowerCase(java.util.Locale.ROOT));
            case "upper" -> Values.str(v).equals(Values.str(v).toUpperCase(java.util.Locale.ROOT));
            case "odd", "even" -> {
                if (!Values.isInteger(v)) throw TemplateError.of("the '" + name + "' test needs an integer");
                yield (Math.floorMod(Values.toLong(v), 2) == 1) == name.equals("odd");
            }
            case "divisibleby" -> {
                Object n = argument(a, name);
                if (!Values.isInteger(v) || !Values.isInteger(n) || Values.toLong(n) == 0) {
                    throw TemplateError.of("divisibleby needs a non-zero integer");
                }
                yield Math.floorMod(Values.toLong(v), Values.toLong(n)) == 0;
            }
            case "eq", "equalto", "==" -> Values.equal(v, argument(a, name));
            case "ne", "!=" -> !Values.equal(v, argument(a, name));
            case "lt", "lessthan", "<" -> Values.compare(v, argument(a, name), "<") < 0;
            case "le", "<=" -> Values.compare(v, argument(a, name), "<=") <= 0;
            case "gt", "greaterthan", ">" -> Values.compare(v, argument(a, name), ">") > 0;
            case "ge", ">=" -> Values.compare(v, argument(a, name), ">=") >= 0;
            case "filter" -> Filters.NAMES.contains(Values.str(v));
            case "test" -> NAMES.contains(Values.str(v));
            default -> throw TemplateError.of("no test named '" + name + "'");
        };
    }

    private static Object argument(Callable.Arguments a, String test) {
        if (a.positional().isEmpty()) throw TemplateError.of("the '" + test + "' test needs an argument");
        return a.positional().getFirst();
    }

    /** Python's {@code is}: the same object; small values (None, booleans) are singletons. */
    private static boolean identical(Object x, Object y) {
        if (x == null || y == null || x instanceof Boolean || y instanceof Boolean) return java.util.Objects.equals(x, y);
        return x == y;
    }
}
