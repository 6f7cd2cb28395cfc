package dev.vane.core.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The text of transformers' {@code tojson} filter: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}, keyword arguments
 * included. Written out rather than done with Jackson because the text must match Python's byte for byte:
 * {@code ", "} and {@code ": "} separators, lower-case {@code \\u} escapes, non-ASCII kept, and floats as
 * Python's {@code repr} writes them ({@code 1e-05}, {@code 1.0}).
 *
 * <pre>{@code
 * {{ {"name": "get_weather", "n": 1.0} | tojson }}          -> {"name": "get_weather", "n": 1.0}
 * {{ tool | tojson(indent=4) }}
 * }</pre>
 */
final class JsonDumps {
    private JsonDumps() {
    }

    /**
     * {@code json.dumps}: with {@code indent == null} everything on one line with {@code ", "} and {@code ": "};
     * with an indent, one item per line and {@code ","} between items.
     */
    static String dumps(Object value, boolean ensureAscii, String indent, String itemSeparator, String keySeparator,
                        boolean sortKeys) {
        String items = itemSeparator != null ? itemSeparator : indent == null ? ", " : ",";
        String keys = keySeparator != null ? keySeparator : ": ";
        StringBuilder out = new StringBuilder();
        new Writer(out, ensureAscii, indent, items, keys, sortKeys).write(value, 0);
        return out.toString();
    }

    private record Writer(StringBuilder out, boolean ensureAscii, String indent, String items, String keys,
                          boolean sortKeys) {
        void write(Object value, int depth) {
            // json.dumps stops at Python's recursion limit; the output cap stops a huge but flat value
            if (depth > Budget.MAX_NESTING) throw TemplateError.of("tojson: value nested more than " + Budget.MAX_NESTING + " levels");
            Budget.checkLength(out.length());
            if (value == null) {
                out.append("null");
            } else if (value instanceof Boolean b) {
                out.append(b ? "true" : "false");
            } else if (value instanceof Number n) {
                out.append(number(n));
            } else if (value instanceof String || value instanceof Character) {
                string(value.toString());
            } else if (value instanceof Map<?, ?> map) {
                object(map, depth);
            } else if (value instanceof Undefined u) {
                throw u.error();
            } else if (value instanceof Collection<?> c) {
                array(c, depth);
            } else {
                throw TemplateError.of("Object of type " + Values.typeName(value) + " is not JSON serializable");
            }
        }

        private void object(Map<?, ?> map, int depth) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            List<Map.Entry<String, Object>> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) entries.add(new AbstractMap.SimpleEntry<>(key(e.getKey()), e.getValue()));
            if (sortKeys) entries.sort(Map.Entry.comparingByKey());
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : entries) {
                if (!first) out.append(items);
                newline(depth + 1);
                string(e.getKey());
                out.append(keys);
                write(e.getValue(), depth + 1);
                first = false;
            }
            newline(depth);
            out.append('}');
        }

        private void array(Collection<?> values, int depth) {
            if (values.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            boolean first = true;
            for (Object v : values) {
                if (!first) out.append(items);
                newline(depth + 1);
                write(v, depth + 1);
                first = false;
            }
            newline(depth);
            out.append(']');
        }

        private void newline(int depth) {
            if (indent == null) return;
            out.append('\n');
            out.append(indent.repeat(depth));
        }

        /** Python turns non-string keys into strings: numbers as written, True/False/None as JSON literals. */
        private static String key(Object k) {
            if (k == null) return "null";
            if (k instanceof Boolean b) return b ? "true" : "false";
            if (k instanceof Number n) return number(n);
            return k.toString();
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) out.append(String.format("\\u%04x", (int) c));
                        else out.append(c);
                    }
                }
            }
            out.append('"');
        }
    }

    /** A number as Python's {@code json.dumps} writes it: integers exactly, floats as {@code repr(float)}. */
    static String number(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte
                || n instanceof BigInteger) {
            return n.toString();
        }
        if (n instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0 && d.scale() <= 0) {
            return d.toBigInteger().toString();
        }
        return pythonFloat(n.doubleValue());
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that round-trip (which {@link Double#toString} also finds),
     * in positional notation when the decimal exponent is between -4 and 16, else as {@code 1e-05} / {@code 1.5e+16}.
     */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        // value = 0.<digits> x 10^point
        int point = digits.length() - exact.scale();
        StringBuilder out = new StringBuilder(d < 0 ? "-" : "");
        if (point > -4 && point <= 16) {
            if (point <= 0) {
                out.append("0.").append("0".repeat(-point)).append(digits);
            } else if (point >= digits.length()) {
                out.append(digits).append("0".repeat(point - digits.length())).append(".0");
            } else {
                out.append(digits, 0, point).append('.').append(digits, point, digits.length());
            }
        } else {
            out.append(digits.charAt(0));
            if (digits.length() > 1) out.append('.').append(digits, 1, digits.length());
            int exponent = point - 1;
            out.append('e').append(exponent < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exponent));
            out.append(e.length() < 2 ? "0" + e : e);
        }
        return out.toString();
    }
}
