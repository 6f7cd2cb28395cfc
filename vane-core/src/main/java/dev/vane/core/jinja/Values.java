package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python's semantics for the values a template handles, so that output and decisions are those of Jinja2 on
 * CPython: {@code str()} and {@code repr()} ({@code True}, {@code None}, {@code ['a', 1]}, {@code 1e-05}),
 * truthiness, {@code ==} across numbers and booleans ({@code 1 == 1.0 == True}), ordering, {@code len},
 * {@code in}, and the arithmetic operators with Python's rules for floor division, modulo and exact integers
 * (an integer that does not fit in 64 bits is an error, never a wrapped number).
 *
 * <p>Values: {@code null} (None), {@link Boolean}, {@link Long}, {@link Double}, {@link String}, {@link List}
 * (list), {@link Tuple}, {@link Map} (dict), {@link Namespace}, {@link Undefined}, and callables.
 *
 * <pre>{@code
 * Values.str(List.of("a", 1L))      // "['a', 1]"
 * Values.equal(1L, true)            // true
 * }</pre>
 */
final class Values {
    private Values() {
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    /** Python's {@code str(v)}; an undefined value is the empty string, as Jinja2 prints it. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    static String repr(Object v) {
        StringBuilder out = new StringBuilder();
        repr(v, out, 0);
        return out.toString();
    }

    private static void repr(Object v, StringBuilder out, int depth) {
        if (depth > Budget.MAX_NESTING) throw TemplateError.of("value nested more than " + Budget.MAX_NESTING + " levels");
        Budget.checkLength(out.length());
        switch (v) {
            case null -> out.append("None");
            case Boolean b -> out.append(b ? "True" : "False");
            case Long l -> out.append(l);
            case Double d -> out.append(floatRepr(d));
            case String s -> stringRepr(s, out);
            case Undefined u -> out.append("Undefined");
            case Tuple t -> {
                out.append('(');
                for (int i = 0; i < t.size(); i++) {
                    if (i > 0) out.append(", ");
                    repr(t.get(i), out, depth + 1);
                }
                out.append(t.size() == 1 ? ",)" : ")");
            }
            case List<?> l -> {
                out.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) out.append(", ");
                    repr(l.get(i), out, depth + 1);
                }
                out.append(']');
            }
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) out.append(", ");
                    repr(e.getKey(), out, depth + 1);
                    out.append(": ");
                    repr(e.getValue(), out, depth + 1);
                    first = false;
                }
                out.append('}');
            }
            default -> out.append(v);
        }
    }

    /** Python's {@code repr(float)}: {@code 1.0}, {@code 0.1}, {@code 1e-05}, {@code 1e+16}, {@code inf}, {@code nan}. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        return JsonDumps.pythonFloat(d);
    }

    /** Python's {@code repr(str)}: single quotes unless the text has a single quote and no double quote. */
    static void stringRepr(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (cp == quote) {
                        out.append('\\').append(quote);
                    } else if (isPrintable(cp)) {
                        out.appendCodePoint(cp);
                    } else if (cp < 0x100) {
                        out.append(String.format("\\x%02x", cp));
                    } else if (cp < 0x10000) {
                        out.append(String.format("\\u%04x", cp));
                    } else {
                        out.append(String.format("\\U%08x", cp));
                    }
                }
            }
        }
        out.append(quote);
    }

    /** Python's {@code str.isprintable()} for one character: not a control, format, separator (but space) or unassigned. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Python's type name, for error messages as Python writes them. */
    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Double d -> "float";
            case String s -> "str";
            case Tuple t -> "tuple";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Namespace n -> "Namespace";
            case Undefined u -> "Undefined";
            case Loop l -> "LoopContext";
            default -> v instanceof Callable ? "function" : v.getClass().getSimpleName();
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        return (Long) v;
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        if (v instanceof Long l) return l;
        return (Double) v;
    }

    /** Python's {@code ==}. */
    static boolean equal(Object a, Object b) {
        return equal(a, b, 0);
    }

    private static boolean equal(Object a, Object b, int depth) {
        if (depth > Budget.MAX_NESTING) throw TemplateError.of("value nested more than " + Budget.MAX_NESTING + " levels");
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) {
            if (isInteger(a) && isInteger(b)) return toLong(a) == toLong(b);
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof Tuple != b instanceof Tuple) return false;
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) {
                if (!equal(x.get(i), y.get(i), depth + 1)) return false;
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (Map.Entry<?, ?> e : x.entrySet()) {
                Object key = findKey(y, e.getKey());
                if (key == MISSING || !equal(e.getValue(), y.get(key), depth + 1)) return false;
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static final Object MISSING = new Object();

    /** The key of {@code map} equal to {@code key} in Python's sense ({@code 1} finds {@code 1.0}), or {@link #MISSING}. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) return key;
        if (isNumber(key) || key == null) {
            for (Object k : map.keySet()) {
                if (equal(k, key)) return k;
            }
        }
        return MISSING;
    }

    /** Python's ordering: numbers, strings (by code point), lists and tuples element-wise. */
    static int compare(Object a, Object b, String operator) {
        return compare(a, b, operator, 0);
    }

    private static int compare(Object a, Object b, String operator, int depth) {
        if (depth > Budget.MAX_NESTING) throw TemplateError.of("value nested more than " + Budget.MAX_NESTING + " levels");
        if (isNumber(a) && isNumber(b)) {
            if (isInteger(a) && isInteger(b)) return Long.compare(toLong(a), toLong(b));
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof Tuple == b instanceof Tuple)) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!equal(x.get(i), y.get(i), depth + 1)) return compare(x.get(i), y.get(i), operator, depth + 1);
            }
            return Integer.compare(x.size(), y.size());
        }
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        throw TemplateError.of("'" + operator + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) return Integer.compare(a, b);
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    /** Python's {@code len(v)}; a string counts code points. */
    static long length(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            default -> throw TemplateError.of("object of type '" + typeName(v) + "' has no len()");
        };
    }

    /** Python's {@code x in container}. */
    static boolean contains(Object container, Object x) {
        return switch (container) {
            case String s -> {
                if (!(x instanceof String sub)) {
                    throw TemplateError.of("'in <string>' requires string as left operand, not " + typeName(x));
                }
                yield s.contains(sub);
            }
            case Collection<?> c -> {
                for (Object item : c) {
                    if (equal(item, x)) yield true;
                }
                yield false;
            }
            case Map<?, ?> m -> findKey(m, x) != MISSING;
            case Undefined u -> false;
            default -> throw TemplateError.of("argument of type '" + typeName(container) + "' is not iterable");
        };
    }

    /** The items of iterating {@code v} in Python: a string's characters, a dict's keys; undefined is empty. */
    static List<Object> iterate(Object v) {
        return switch (v) {
            case String s -> {
                Budget.checkItems(s.codePointCount(0, s.length()));
                List<Object> chars = new ArrayList<>();
                s.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
                yield chars;
            }
            case List<?> l -> new ArrayList<>(l);
            case Collection<?> c -> new ArrayList<>(c);
            case Map<?, ?> m -> new ArrayList<>(m.keySet());
            case Undefined u -> List.of();
            default -> throw TemplateError.of("'" + typeName(v) + "' object is not iterable");
        };
    }

    // ---- arithmetic ----------------------------------------------------------------------------------------

    static Object binary(String op, Object a, Object b) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        return switch (op) {
            case "+" -> add(a, b);
            case "-" -> numeric(op, a, b, Math::subtractExact, (x, y) -> x - y);
            case "*" -> multiply(a, b);
            case "/" -> {
                requireNumbers(op, a, b);
                if (toDouble(b) == 0) throw TemplateError.of("division by zero");
                yield toDouble(a) / toDouble(b);
            }
            case "//" -> floorDivide(a, b);
            case "%" -> a instanceof String format ? PercentFormat.format(format, b) : modulo(a, b);
            case "**" -> power(a, b);
            default -> throw new IllegalStateException(op);
        };
    }

    private static Object add(Object a, Object b) {
        if (a instanceof String x && b instanceof String y) {
            Budget.checkLength((long) x.length() + y.length());
            return x + y;
        }
        if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof Tuple == b instanceof Tuple)) {
            Budget.checkItems((long) x.size() + y.size());
            List<Object> sum = new ArrayList<>(x);
            sum.addAll(y);
            return a instanceof Tuple ? new Tuple(sum) : sum;
        }
        if (a instanceof String && !(b instanceof String)) {
            throw TemplateError.of("can only concatenate str (not \"" + typeName(b) + "\") to str");
        }
        if (a instanceof List<?> && !(a instanceof Tuple) && !(b instanceof List<?>)) {
            throw TemplateError.of("can only concatenate list (not \"" + typeName(b) + "\") to list");
        }
        return numeric("+", a, b, Math::addExact, Double::sum);
    }

    private static Object multiply(Object a, Object b) {
        if ((a instanceof String || a instanceof List<?>) && isInteger(b)) return repeat(a, toLong(b));
        if ((b instanceof String || b instanceof List<?>) && isInteger(a)) return repeat(b, toLong(a));
        return numeric("*", a, b, Math::multiplyExact, (x, y) -> x * y);
    }

    private static Object repeat(Object sequence, long times) {
        long n = Math.max(0, times);
        if (sequence instanceof String s) {
            Budget.checkLength(s.length() * Math.min(n, Budget.MAX_CHARS + 1));
            return s.repeat((int) n);
        }
        List<?> l = (List<?>) sequence;
        Budget.checkItems(l.size() * Math.min(n, Budget.MAX_ITEMS + 1));
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll(l);
        return sequence instanceof Tuple ? new Tuple(out) : out;
    }

    private static Object floorDivide(Object a, Object b) {
        requireNumbers("//", a, b);
        if (isInteger(a) && isInteger(b)) {
            if (toLong(b) == 0) throw TemplateError.of("integer division or modulo by zero");
            if (toLong(a) == Long.MIN_VALUE && toLong(b) == -1) throw TemplateError.of("integer too large");
            return Math.floorDiv(toLong(a), toLong(b));
        }
        if (toDouble(b) == 0) throw TemplateError.of("float floor division by zero");
        return Math.floor(toDouble(a) / toDouble(b));
    }

    private static Object modulo(Object a, Object b) {
        requireNumbers("%", a, b);
        if (isInteger(a) && isInteger(b)) {
            if (toLong(b) == 0) throw TemplateError.of("integer modulo by zero");
            return Math.floorMod(toLong(a), toLong(b));
        }
        double y = toDouble(b);
        if (y == 0) throw TemplateError.of("float modulo");
        double r = toDouble(a) % y;
        if (r != 0 && (r < 0) != (y < 0)) r += y;
        return r;
    }

    private static Object power(Object a, Object b) {
        requireNumbers("**", a, b);
        if (isInteger(a) && isInteger(b) && toLong(b) >= 0) {
            long base = toLong(a);
            long exponent = toLong(b);
            long result = 1;
            try {
                while (exponent > 0) { // by squaring: at most 64 multiplications before overflow is detected
                    if ((exponent & 1) == 1) result = Math.multiplyExact(result, base);
                    exponent >>= 1;
                    if (exponent > 0) base = Math.multiplyExact(base, base);
                }
            } catch (ArithmeticException overflow) {
                throw TemplateError.of("integer result of " + toLong(a) + " ** " + toLong(b) + " is too large");
            }
            return result;
        }
        return Math.pow(toDouble(a), toDouble(b));
    }

    private static void requireNumbers(String op, Object a, Object b) {
        if (!isNumber(a) || !isNumber(b)) {
            throw TemplateError.of("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                    + typeName(b) + "'");
        }
    }

    private interface LongOp {
        long apply(long x, long y);
    }

    private interface DoubleOp {
        double apply(double x, double y);
    }

    private static Object numeric(String op, Object a, Object b, LongOp longs, DoubleOp doubles) {
        requireNumbers(op, a, b);
        if (isInteger(a) && isInteger(b)) {
            try {
                return longs.apply(toLong(a), toLong(b));
            } catch (ArithmeticException overflow) {
                throw TemplateError.of("integer result of " + op + " is too large");
            }
        }
        return doubles.apply(toDouble(a), toDouble(b));
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (v instanceof Double d) return -d;
        if (isInteger(v)) {
            if (toLong(v) == Long.MIN_VALUE) throw TemplateError.of("integer too large");
            return -toLong(v);
        }
        throw TemplateError.of("bad operand type for unary -: '" + typeName(v) + "'");
    }
}
