package dev.vane.core.jinja;


import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The Python {@code str} methods chat templates call ({@code content.strip()}, {@code role.startswith('a')}),
 * with Python's semantics: whitespace is Unicode whitespace as {@code str.isspace()} defines it, indices count code
 * points. In Jinja2 these are the methods of the Python string itself; a template here reaches them through
 * {@link Methods}, and {@code ChatTemplate} strips a prefill with {@link #strip} as transformers does.
 *
 * <pre>{@code
 * PythonStrings.call("  Why?  ", "strip", new Object[0]);       // "Why?"
 * PythonStrings.call("a,b,,c", "split", new Object[]{","});   // ["a", "b", "", "c"]
 * }</pre>
 */
public final class PythonStrings {
    /** The methods {@link #call} implements; anything else is refused. */
    static final Set<String> METHODS = Set.of("strip", "lstrip", "rstrip", "startswith", "endswith", "split",
            "rsplit", "splitlines", "upper", "lower", "title", "capitalize", "replace", "join", "find", "count",
            "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower");

    private PythonStrings() {
    }

    /**
     * Calls {@code s.method(*args)} with Python's semantics.
     *
     * @throws IllegalArgumentException for a method outside {@link #METHODS} or arguments Python would reject;
     *                                  the message reads like Python's
     */
    static Object call(String s, String method, Object[] args) {
        Object[] a = args == null ? new Object[0] : args;
        return switch (method) {
            case "strip" -> strip(s, chars(method, a), true, true);
            case "lstrip" -> strip(s, chars(method, a), true, false);
            case "rstrip" -> strip(s, chars(method, a), false, true);
            case "startswith" -> affix(s, method, a, true);
            case "endswith" -> affix(s, method, a, false);
            case "split" -> split(s, optionalString(method, a, 0), maxsplit(method, a), false);
            case "rsplit" -> split(s, optionalString(method, a, 0), maxsplit(method, a), true);
            case "splitlines" -> {
                arity(method, a, 0, 0);
                yield splitlines(s);
            }
            case "upper" -> {
                arity(method, a, 0, 0);
                yield s.toUpperCase(Locale.ROOT);
            }
            case "lower" -> {
                arity(method, a, 0, 0);
                yield s.toLowerCase(Locale.ROOT);
            }
            case "title" -> {
                arity(method, a, 0, 0);
                yield title(s);
            }
            case "capitalize" -> {
                arity(method, a, 0, 0);
                yield capitalize(s);
            }
            case "replace" -> replace(s, a);
            case "join" -> join(s, a);
            case "find" -> {
                arity(method, a, 1, 1);
                int at = s.indexOf(string(method, a[0]));
                yield at < 0 ? -1 : s.codePointCount(0, at);
            }
            case "count" -> {
                arity(method, a, 1, 1);
                yield count(s, string(method, a[0]));
            }
            case "isdigit" -> test(s, a, method, Character::isDigit);
            case "isalpha" -> test(s, a, method, Character::isLetter);
            case "isalnum" -> test(s, a, method, Character::isLetterOrDigit);
            case "isspace" -> test(s, a, method, PythonStrings::isSpace);
            case "isupper" -> cased(s, a, method, true);
            case "islower" -> cased(s, a, method, false);
            default -> throw new IllegalArgumentException("'str' object has no attribute '" + method + "'");
        };
    }

    /** Python's {@code str.isspace()} for one code point: category Zs, or bidirectional class WS, B or S. */
    static boolean isSpace(int cp) {
        if (Character.getType(cp) == Character.SPACE_SEPARATOR) return true;
        byte bidi = Character.getDirectionality(cp);
        return bidi == Character.DIRECTIONALITY_WHITESPACE
                || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
                || bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
    }

    /** {@code str.strip(chars)}; {@code chars == null} strips whitespace. */
    public static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end) {
            int cp = s.codePointAt(start);
            if (!stripped(cp, chars)) break;
            start += Character.charCount(cp);
        }
        while (right && end > start) {
            int cp = s.codePointBefore(end);
            if (!stripped(cp, chars)) break;
            end -= Character.charCount(cp);
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    private static String chars(String method, Object[] a) {
        arity(method, a, 0, 1);
        return optionalString(method, a, 0);
    }

    private static boolean affix(String s, String method, Object[] a, boolean prefix) {
        arity(method, a, 1, 1);
        // Python accepts a tuple of candidates; in a template that is a list.
        if (a[0] instanceof Collection<?> candidates) {
            for (Object candidate : candidates) {
                String c = string(method, candidate);
                if (prefix ? s.startsWith(c) : s.endsWith(c)) return true;
            }
            return false;
        }
        String c = string(method, a[0]);
        return prefix ? s.startsWith(c) : s.endsWith(c);
    }

    private static int maxsplit(String method, Object[] a) {
        arity(method, a, 0, 2);
        if (a.length < 2 || a[1] == null) return -1;
        if (!(a[1] instanceof Number n)) throw new IllegalArgumentException(method + "(): maxsplit must be an integer");
        return n.intValue();
    }

    /** {@code str.split(sep, maxsplit)} and {@code str.rsplit}: without sep, runs of whitespace separate and ends are dropped. */
    static List<String> split(String s, String sep, int maxsplit, boolean fromRight) {
        if (sep != null && sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        List<String> parts = new ArrayList<>();
        int limit = maxsplit < 0 ? Integer.MAX_VALUE : maxsplit;
        if (sep != null) {
            if (!fromRight) {
                int from = 0;
                int at;
                while (parts.size() < limit && (at = s.indexOf(sep, from)) >= 0) {
                    parts.add(s.substring(from, at));
                    from = at + sep.length();
                }
                parts.add(s.substring(from));
            } else {
                int to = s.length();
                int at;
                while (parts.size() < limit && (at = s.lastIndexOf(sep, to - sep.length())) >= 0) {
                    parts.addFirst(s.substring(at + sep.length(), to));
                    to = at;
                }
                parts.addFirst(s.substring(0, to));
            }
            return parts;
        }
        // Whitespace splitting, left to right or right to left, like CPython's split_whitespace.
        List<int[]> words = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (isSpace(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            while (i < s.length() && !isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
            words.add(new int[]{start, i});
        }
        if (words.size() <= limit + 1 || limit == Integer.MAX_VALUE) {
            for (int[] w : words) parts.add(s.substring(w[0], w[1]));
            return parts;
        }
        if (!fromRight) {
            for (int w = 0; w < limit; w++) parts.add(s.substring(words.get(w)[0], words.get(w)[1]));
            parts.add(s.substring(words.get(limit)[0])); // Python keeps the rest as it is, trailing spaces too
        } else {
            int first = words.size() - limit;
            parts.add(s.substring(0, words.get(first - 1)[1]));
            for (int w = first; w < words.size(); w++) parts.add(s.substring(words.get(w)[0], words.get(w)[1]));
        }
        return parts;
    }

    /** {@code str.splitlines()}: the line boundaries Python recognises, ends dropped. */
    static List<String> splitlines(String s) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            boolean boundary = c == '\n' || c == '\r' || c == '\u000b' || c == '\u000c' || c == '\u001c'
                    || c == '\u001d' || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029';
            if (!boundary) {
                i++;
                continue;
            }
            lines.add(s.substring(start, i));
            i += (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') ? 2 : 1;
            start = i;
        }
        if (start < s.length()) lines.add(s.substring(start));
        return lines;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            out.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            previousCased = isCased(cp);
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT)).toString();
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    private static String replace(String s, Object[] a) {
        arity("replace", a, 2, 3);
        String old = string("replace", a[0]);
        String replacement = string("replace", a[1]);
        int count = a.length < 3 || a[2] == null ? -1 : ((Number) a[2]).intValue();
        if (count < 0) return s.replace(old, replacement);
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) break;
            out.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at == s.length()) {
                    from = at + 1;
                    break;
                }
                int cp = s.codePointAt(at);
                out.appendCodePoint(cp);
                from = at + Character.charCount(cp);
            } else {
                from = at + old.length();
            }
        }
        if (from <= s.length()) out.append(s, from, s.length());
        return out.toString();
    }

    private static String join(String s, Object[] a) {
        arity("join", a, 1, 1);
        if (!(a[0] instanceof Iterable<?> items)) throw new IllegalArgumentException("can only join an iterable");
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object item : items) {
            if (!first) out.append(s);
            out.append(string("join", item));
            first = false;
        }
        return out.toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1;
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    private static boolean test(String s, Object[] a, String method, java.util.function.IntPredicate predicate) {
        arity(method, a, 0, 0);
        return !s.isEmpty() && s.codePoints().allMatch(predicate);
    }

    private static boolean cased(String s, Object[] a, String method, boolean upper) {
        arity(method, a, 0, 0);
        boolean anyCased = false;
        for (int cp : s.codePoints().toArray()) {
            if (upper ? Character.isLowerCase(cp) || Character.isTitleCase(cp) : Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            anyCased |= isCased(cp);
        }
        return anyCased;
    }

    private static void arity(String method, Object[] a, int min, int max) {
        if (a.length < min || a.length > max) {
            throw new IllegalArgumentException(method + "() takes " + (min == max ? "exactly " + min : min + " to " + max)
                    + " arguments (" + a.length + " given)");
        }
    }

    private static String optionalString(String method, Object[] a, int index) {
        return a.length <= index || a[index] == null ? null : string(method, a[index]);
    }

    private static String string(String method, Object value) {
        if (value instanceof String) return value.toString();
        throw new IllegalArgumentException(method + "() argument must be str, not "
                + (value == null ? "None" : value.getClass().getSimpleName()));
    }
}
