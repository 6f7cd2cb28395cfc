package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's built-in filters as chat templates use them, with Jinja2's arguments and semantics, and transformers'
 * {@code tojson}. Sizes are checked before a result is built ({@code center}, {@code indent}). A filter not
 * listed in {@link #NAMES} makes the template fail to compile, as in Jinja2.
 *
 * <pre>{@code
 * {{ message['content'] | trim }}   {{ tools | tojson(indent=4) }}   {{ messages | selectattr('role', 'equalto', 'user') | list }}
 * }</pre>
 */
final class Filters {
    static final Set<String> NAMES = Set.of("abs", "attr", "capitalize", "center", "count", "d", "default",
            "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items", "join",
            "last", "length", "list", "lower", "map", "max", "min", "pprint", "reject", "rejectattr", "replace",
            "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim",
            "unique", "upper", "wordcount");

    private Filters() {
    }

    static Object apply(String name, Object value, Callable.Arguments a, Renderer renderer) {
        Budget budget = renderer.budget();
        return switch (name) {
            case "abs" -> {
                if (value instanceof Double d) yield Math.abs(d);
                if (Values.isInteger(value)) yield Math.abs(Values.toLong(value));
                throw TemplateError.of("bad operand type for abs(): '" + Values.typeName(value) + "'");
            }
            case "attr" -> Access.attribute(value, Values.str(a.get(0, "name", "")));
            case "capitalize" -> PythonStrings.call(Values.str(value), "capitalize", new Object[0]);
            case "center" -> {
                String s = Values.str(value);
                long width = integer(a.get(0, "width", 80L), "center");
                Budget.checkLength(width);
                if (width <= s.length()) yield s;
                // Python: the extra space goes to the right when the padding is odd and the text even.
                long pad = width - s.length();
                long left = pad / 2 + (pad & width & 1);
                yield " ".repeat((int) left) + s + " ".repeat((int) (pad - left));
            }
            case "count", "length" -> Values.length(value);
            case "d", "default" -> {
                boolean useDefault = value instanceof Undefined
                        || (Values.truthy(a.get(1, "boolean", false)) && !Values.truthy(value));
                yield useDefault ? a.get(0, "default_value", "") : value;
            }
            case "dictsort" -> dictsort(value, a);
            case "e", "escape", "forceescape" -> escape(Values.str(value));
            case "first" -> {
                List<Object> items = Values.iterate(value);
                yield items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.getFirst();
            }
            case "last" -> {
                List<Object> items = Values.iterate(value);
                yield items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.getLast();
            }
            case "float" -> toFloat(value, a.get(0, "default", 0.0));
            case "int" -> toInt(value, a.get(0, "default", 0L));
            case "format" -> PercentFormat.format(Values.str(value), a.positional().size() == 1
                    ? a.positional().getFirst() : new Tuple(a.positional()));
            case "indent" -> indent(Values.str(value), a);
            case "items" -> {
                if (value instanceof Undefined) yield List.of();
                if (!(value instanceof Map<?, ?> map)) throw TemplateError.of("Can only get item pairs from a mapping.");
                List<Object> items = new ArrayList<>();
                map.forEach((k, v) -> items.add(Tuple.of(k, v)));
                yield items;
            }
            case "join" -> join(value, a);
            case "list" -> Values.iterate(value);
            case "lower" -> Values.str(value).toLowerCase(Locale.ROOT);
            case "upper" -> {
                String s = Values.str(value);
                Budget.checkLength(3L * s.length());
                yield s.toUpperCase(Locale.ROOT);
            }
            case "title" -> PythonStrings.call(Values.str(value), "title", new Object[0]);
            case "map" -> map(value, a, renderer);
            case "max", "min" -> extreme(value, a, name.equals("max"));
            case "pprint" -> Values.repr(value);
            case "select", "reject" -> select(value, a, renderer, name.equals("select"), false);
            case "selectattr", "rejectattr" -> select(value, a, renderer, name.equals("selectattr"), true);
            case "replace" -> {
                Object count = a.get(2, "count", null);
                Object[] args = count == null
                        ? new Object[]{Values.str(a.get(0, "old", "")), Values.str(a.get(1, "new", ""))}
                        : new Object[]{Values.str(a.get(0, "old", "")), Values.str(a.get(1, "new", "")), count};
                yield Methods.bind(Values.str(value), "replace").call(new Callable.Arguments(List.of(args), Map.of()), renderer);
            }
            case "reverse" -> {
                if (value instanceof String s) yield new StringBuilder(s).reverse().toString();
                List<Object> items = Values.iterate(value);
                java.util.Collections.reverse(items);
                yield items;
            }
            case "round" -> round(value, a);
            case "safe", "string" -> Values.str(value);
            case "sort" -> sort(value, a);
            case "sum" -> {
                Object total = a.get(1, "start", 0L);
                Object attribute = a.get(0, "attribute", null);
                for (Object item : Values.iterate(value)) {
                    total = Values.binary("+", total, attribute == null ? item : Access.attribute(item, Values.str(attribute)));
                }
                yield total;
            }
            case "tojson" -> tojson(value, a);
            case "trim" -> PythonStrings.strip(Values.str(value), a.get(0, "chars", null) == null ? null
                    : Values.str(a.get(0, "chars", null)), true, true);
            case "unique" -> {
                List<Object> seen = new ArrayList<>();
                for (Object item : Values.iterate(value)) {
                    budget.charge(seen.size() / 64 + 1);
                    Object key = item instanceof String s && !Values.truthy(a.get(0, "case_sensitive", false))
                            ? s.toLowerCase(Locale.ROOT) : item;
                    boolean found = false;
                    for (Object other : seen) {
                        Object otherKey = other instanceof String o && !Values.truthy(a.get(0, "case_sensitive", false))
                                ? o.toLowerCase(Locale.ROOT) : other;
                        if (Values.equal(otherKey, key)) found = true;
                    }
                    if (!found) seen.add(item);
                }
                yield seen;
            }
            case "wordcount" -> (long) PythonStrings.split(Values.str(value), null, -1, false).size();
            default -> throw TemplateError.of("no filter named '" + name + "'");
        };
    }

    private static long integer(Object v, String filter) {
        if (!Values.isInteger(v)) throw TemplateError.of(filter + "(): an integer is required, not " + Values.typeName(v));
        return Values.toLong(v);
    }

    /** Jinja2's {@code escape}: {@code & < > " '} as HTML entities. */
    private static String escape(String s) {
        Budget.checkLength(5L * s.length());
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&#34;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static Object toFloat(Object value, Object fallback) {
        if (value instanceof Double) return value;
        if (Values.isInteger(value)) return (double) Values.toLong(value);
        try {
            return Double.parseDouble(PythonStrings.strip(Values.str(value), null, true, true).replace("_", ""));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Object toInt(Object value, Object fallback) {
        if (Values.isInteger(value)) return Values.toLong(value);
        if (value instanceof Double d) return (long) (double) d;
        String s = PythonStrings.strip(Values.str(value), null, true, true).replace("_", "");
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            try {
                return (long) Double.parseDouble(s);
            } catch (NumberFormatException notANumber) {
                return fallback;
            }
        }
    }

    /** Jinja2's {@code indent(width=4, first=False, blank=False)}; width may be a string. */
    private static String indent(String s, Callable.Arguments a) {
        Object width = a.get(0, "width", 4L);
        boolean first = Values.truthy(a.get(1, "first", false));
        boolean blank = Values.truthy(a.get(2, "blank", false));
        String pad;
        if (width instanceof String w) {
            pad = w;
        } else {
            long n = integer(width, "indent");
            Budget.checkLength(n);
            pad = " ".repeat((int) Math.max(0, n));
        }
        // Jinja2 appends a newline before splitting, so a trailing newline is dropped and blank lines stay bare.
        List<String> lines = PythonStrings.splitlines(s + "\n");
        Budget.checkLength(s.length() + (long) pad.length() * (lines.size() + 1));
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i > 0) out.append('\n');
            if (i > 0 && (blank || !line.isEmpty())) out.append(pad);
            out.append(line);
        }
        return first ? pad + out : out.toString();
    }

    private static String join(Object value, Callable.Arguments a) {
        String separator = Values.str(a.get(0, "d", ""));
        Object attribute = a.get(1, "attribute", null);
        List<Object> items = Values.iterate(value);
        long total = (long) separator.length() * items.size();
        List<String> parts = new ArrayList<>(items.size());
        for (Object item : items) {
            String part = Values.str(attribute == null ? item : Access.attribute(item, Values.str(attribute)));
            total += part.length();
            Budget.checkLength(total);
            parts.add(part);
        }
        return String.join(separator, parts);
    }

    private static Object map(Object value, Callable.Arguments a, Renderer renderer) {
        List<Object> out = new ArrayList<>();
        Object attribute = a.named().get("attribute");
        if (attribute != null) {
            Object fallback = a.named().get("default");
            for (Object item : Values.iterate(value)) {
                Object v = Access.attribute(item, Values.str(attribute));
                out.add(v instanceof Undefined && fallback != null ? fallback : v);
            }
            return out;
        }
        if (a.positional().isEmpty()) throw TemplateError.of("map requires a filter argument");
        String filter = Values.str(a.positional().getFirst());
        if (!NAMES.contains(filter)) throw TemplateError.of("no filter named '" + filter + "'");
        Callable.Arguments rest = new Callable.Arguments(a.positional().subList(1, a.positional().size()), a.named());
        for (Object item : Values.iterate(value)) {
            renderer.budget().charge(1);
            out.add(apply(filter, item, rest, renderer));
        }
        return out;
    }

    private static List<Object> select(Object value, Callable.Arguments a, Renderer renderer, boolean keep, boolean byAttribute) {
        List<Object> out = new ArrayList<>();
        List<Object> args = a.positional();
        String attribute = byAttribute ? Values.str(args.isEmpty() ? "" : args.getFirst()) : null;
        int testAt = byAttribute ? 1 : 0;
        String test = args.size() > testAt ? Values.str(args.get(testAt)) : null;
        if (test != null && !Tests.NAMES.contains(test)) throw TemplateError.of("no test named '" + test + "'");
        Callable.Arguments testArguments = new Callable.Arguments(
                args.size() > testAt + 1 ? args.subList(testAt + 1, args.size()) : List.of(), Map.of());
        for (Object item : Values.iterate(value)) {
            renderer.budget().charge(1);
            Object subject = attribute != null ? Access.attribute(item, attribute) : item;
            boolean passes = test == null ? Values.truthy(subject) : Tests.apply(test, subject, testArguments, renderer);
            if (passes == keep) out.add(item);
        }
        return out;
    }

    private static Object extreme(Object value, Callable.Arguments a, boolean max) {
        List<Object> items = Values.iterate(value);
        if (items.isEmpty()) return new Undefined("No aggregated item, sequence was empty.");
        Comparator<Object> order = sortKey(a.get(0, "case_sensitive", false), a.get(1, "attribute", null));
        Object best = items.getFirst();
        for (Object item : items) {
            int c = order.compare(item, best);
            if (max ? c > 0 : c < 0) best = item;
        }
        return best;
    }

    private static Comparator<Object> sortKey(Object caseSensitive, Object attribute) {
        boolean sensitive = Values.truthy(caseSensitive);
        return (x, y) -> {
            Object kx = attribute == null ? x : Access.attribute(x, Values.str(attribute));
            Object ky = attribute == null ? y : Access.attribute(y, Values.str(attribute));
            if (!sensitive && kx instanceof String s) kx = s.toLowerCase(Locale.ROOT);
            if (!sensitive && ky instanceof String s) ky = s.toLowerCase(Locale.ROOT);
            return Values.compare(kx, ky, "<");
        };
    }

    private static List<Object> sort(Object value, Callable.Arguments a) {
        List<Object> items = Values.iterate(value);
        Comparator<Object> order = sortKey(a.get(1, "case_sensitive", false), a.get(2, "attribute", null));
        items.sort(Values.truthy(a.get(0, "reverse", false)) ? order.reversed() : order);
        return items;
    }

    private static List<Object> dictsort(Object value, Callable.Arguments a) {
        if (!(value instanceof Map<?, ?> map)) throw TemplateError.of("dictsort: a dict is required");
        boolean sensitive = Values.truthy(a.get(0, "case_sensitive", false));
        boolean byValue = "value".equals(a.get(1, "by", "key"));
        List<Object> items = new ArrayList<>();
        map.forEach((k, v) -> items.add(Tuple.of(k, v)));
        items.sort((x, y) -> {
            Object kx = ((Tuple) x).get(byValue ? 1 : 0);
            Object ky = ((Tuple) y).get(byValue ? 1 : 0);
            if (!sensitive && kx instanceof String s) kx = s.toLowerCase(Locale.ROOT);
            if (!sensitive && ky instanceof String s) ky = s.toLowerCase(Locale.ROOT);
            return Values.compare(kx, ky, "<");
        });
        if (Values.truthy(a.get(2, "reverse", false))) java.util.Collections.reverse(items);
        return items;
    }

    /** Jinja2's {@code round}: "common" is Python's {@code round(x, n)}, exact on the binary value, ties to even. */
    private static Object round(Object value, Callable.Arguments a) {
        long precision = integer(a.get(0, "precision", 0L), "round");
        String method = Values.str(a.get(1, "method", "common"));
        double x = Values.toDouble(value);
        java.math.BigDecimal d = new java.math.BigDecimal(x);
        java.math.RoundingMode mode = switch (method) {
            case "common" -> java.math.RoundingMode.HALF_EVEN;
            case "ceil" -> java.math.RoundingMode.CEILING;
            case "floor" -> java.math.RoundingMode.FLOOR;
            default -> throw TemplateError.of("method must be common, ceil or floor");
        };
        return d.setScale((int) Math.max(-300, Math.min(300, precision)), mode).doubleValue();
    }

    /** transformers' {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    private static String tojson(Object value, Callable.Arguments a) {
        a.expect("tojson", 4, "ensure_ascii", "indent", "separators", "sort_keys");
        Object indent = a.get(1, "indent", null);
        Object separators = a.get(2, "separators", null);
        String itemSeparator = null;
        String keySeparator = null;
        if (separators != null) {
            if (!(separators instanceof List<?> pair) || pair.size() != 2) {
                throw TemplateError.of("tojson(): separators must be a pair of strings");
            }
            itemSeparator = Values.str(pair.get(0));
            keySeparator = Values.str(pair.get(1));
        }
        String indentText = null;
        if (Values.isInteger(indent)) {
            long n = Values.toLong(indent);
            Budget.checkLength(n);
            indentText = " ".repeat((int) Math.max(0, n));
        } else if (indent instanceof String s) {
            indentText = s;
        } else if (indent != null) {
            throw TemplateError.of("tojson(): indent must be an integer or a string");
        }
        return JsonDumps.dumps(value, Values.truthy(a.get(0, "ensure_ascii", false)), indentText, itemSeparator,
                keySeparator, Values.truthy(a.get(3, "sort_keys", false)));
    }
}
