package dev.vane.core.tokenize;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Jinja2 template's source rewritten so that jinjava reads it as Jinja2 does, and the filter and test names it
 * uses. jinjava differs from Jinja2's lexer and parser in these ways, all handled here:
 * <ul>
 *   <li>line breaks: Jinja2 turns {@code \r\n} and {@code \r} into {@code \n} and drops one trailing newline
 *       ({@code keep_trailing_newline=False});
 *   <li>{@code lstrip_blocks}: Jinja2 removes the spaces and tabs before a {@code {% ... %}} or {@code {# ... #}}
 *       only when nothing else precedes the tag on its line; jinjava removes them wherever the tag is, so
 *       {@code "{{ role }} {% endif %}"} would lose its space. lstrip is therefore done here and switched off in
 *       jinjava;
 *   <li>{@code {%+ ... %}}, which turns lstrip off for one tag, is unknown to jinjava: the {@code +} is removed
 *       (after lstrip was skipped for that tag);
 *   <li>a {@code }}} closing nested dict literals inside an expression ends the expression for jinjava; a space
 *       is put between the braces;
 *   <li>string literals may use all of Python's escapes ({@code '\u005Cu00e9'}, {@code '\x41'}), of which
 *       jinjava's scanner knows only a few; they are decoded;
 *   <li>an unknown filter or test is an error when Jinja2 compiles the template; jinjava silently renders
 *       nothing. The names are collected so {@link ChatTemplate} can check them.
 * </ul>
 * Text outside tags and everything inside comments and {@code {% raw %}} blocks is copied unchanged.
 *
 * <pre>{@code
 * TemplateSource.read("{% for m in messages %}\n    {% if m.role %}x {% endif %}\n{% endfor %}\n").jinjava()
 *     -> "{% for m in messages %}\n{% if m.role %}x {% endif %}\n{% endfor %}"
 * }</pre>
 *
 * @param jinjava     the source for jinjava (configured with trim_blocks and without lstrip_blocks)
 * @param filterNames the filters the template applies ({@code x | trim} gives "trim")
 * @param testNames   the tests the template uses ({@code x is not defined} gives "defined")
 */
record TemplateSource(String jinjava, Set<String> filterNames, Set<String> testNames) {
    private static final Pattern NEWLINE = Pattern.compile("\r\n|\r|\n");
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");
    private static final Pattern FILTER = Pattern.compile("\\|\\s*([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern TEST = Pattern.compile("(?<![A-Za-z0-9_.])is\\s+(?:not\\s+)?([A-Za-z_][A-Za-z0-9_]*)");

    /** Reads a template as Jinja2 would. */
    static TemplateSource read(String jinja2Source) {
        String s = NEWLINE.matcher(jinja2Source).replaceAll("\n");
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);

        StringBuilder out = new StringBuilder(s.length());
        StringBuilder code = new StringBuilder(); // tag and expression bodies with string literals blanked
        int i = 0;
        while (i < s.length()) {
            int open = s.indexOf('{', i);
            if (open < 0 || open + 1 >= s.length()) {
                out.append(s, i, s.length());
                break;
            }
            out.append(s, i, open);
            char kind = s.charAt(open + 1);
            if (kind != '%' && kind != '#' && kind != '{') {
                out.append('{');
                i = open + 1;
                continue;
            }
            if (kind == '{') {
                out.append("{{");
                i = copyCode(s, open + 2, "}}", out, code);
                continue;
            }
            boolean keepIndent = open + 2 < s.length() && s.charAt(open + 2) == '+';
            if (!keepIndent) lstrip(s, open, out);
            if (kind == '#') {
                int end = commentEnd(s, open + 2);
                out.append(s, open, end);
                i = end;
                continue;
            }
            out.append("{%");
            i = copyCode(s, open + (keepIndent ? 3 : 2), "%}", out, code);
            if (RAW_BEGIN.matcher(s).region(open, i).matches()) i = rawBlock(s, i, out);
        }
        return new TemplateSource(out.toString(), names(FILTER, code), names(TEST, code));
    }

    private static Set<String> names(Pattern pattern, CharSequence code) {
        Set<String> names = new TreeSet<>();
        Matcher m = pattern.matcher(code);
        while (m.find()) names.add(m.group(1));
        return Set.copyOf(names);
    }

    /**
     * Removes the spaces and tabs just written before a tag starting at {@code tagStart} if they are all that
     * precedes it on its line.
     */
    private static void lstrip(String s, int tagStart, StringBuilder out) {
        int p = tagStart;
        while (p > 0 && (s.charAt(p - 1) == ' ' || s.charAt(p - 1) == '\t')) p--;
        if (p == tagStart || (p > 0 && s.charAt(p - 1) != '\n')) return;
        out.setLength(out.length() - (tagStart - p));
    }

    /**
     * Copies a tag or expression body starting at {@code from} up to and including the {@code close} that ends
     * it (outside string literals and brackets), and returns the index after it. String literals are rewritten
     * to the escapes jinjava knows; the body without its strings is added to {@code code}.
     */
    private static int copyCode(String s, int from, String close, StringBuilder out, StringBuilder code) {
        int depth = 0;
        int i = from;
        code.append(' ');
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = copyString(s, i, out);
                code.append(" '' "); // names inside strings are not filters
                continue;
            }
            if (depth == 0 && s.startsWith(close, i)) {
                out.append(close);
                code.append(" ;");
                return i + close.length();
            }
            code.append(c);
            if (c == '{' || c == '[' || c == '(') depth++;
            else if ((c == '}' || c == ']' || c == ')') && depth > 0) depth--;
            out.append(c);
            i++;
            // jinjava's scanner ends an expression at the first "}}", even one closing nested dicts; Jinja2
            // counts brackets. A space keeps the meaning and hides the pair.
            if (c == '}' && i < s.length() && s.charAt(i) == '}') out.append(' ');
        }
        return s.length(); // unclosed: jinjava reports it
    }

    /**
     * Copies the string literal starting at {@code start}, decoding Python's escapes ({@code \\u00e9},
     * {@code \\x41}, {@code \\U0001F600}, octal, {@code \\a}, {@code \\v}; an unknown escape keeps its
     * backslash) and writing the result with only the escapes jinjava's scanner accepts.
     */
    private static int copyString(String s, int start, StringBuilder out) {
        char quote = s.charAt(start);
        out.append(quote);
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == quote) {
                out.append(quote);
                return i + 1;
            }
            if (c != '\\' || i + 1 >= s.length()) {
                writeChar(c, quote, out);
                i++;
                continue;
            }
            char e = s.charAt(i + 1);
            int[] decoded = switch (e) {
                case 'u' -> hex(s, i + 2, 4);
                case 'U' -> hex(s, i + 2, 8);
                case 'x' -> hex(s, i + 2, 2);
                case '0', '1', '2', '3', '4', '5', '6', '7' -> octal(s, i + 1);
                case 'a' -> new int[]{7, 2};
                case 'v' -> new int[]{0x0b, 2};
                case 'n' -> new int[]{'\n', 2};
                case 't' -> new int[]{'\t', 2};
                case 'r' -> new int[]{'\r', 2};
                case 'b' -> new int[]{'\b', 2};
                case 'f' -> new int[]{'\f', 2};
                case '\\', '\'', '"' -> new int[]{e, 2};
                case '\n' -> new int[]{-1, 2}; // backslash-newline continues the line
                default -> null;
            };
            if (decoded == null) { // Python keeps an unknown escape as it is
                writeChar('\\', quote, out);
                i++;
                continue;
            }
            if (decoded[0] >= 0) {
                for (char d : Character.toChars(decoded[0])) writeChar(d, quote, out);
            }
            i += decoded[1];
        }
        return s.length();
    }

    /** {code point, characters consumed} for {@code \\u}, {@code \\U}, {@code \\x} with exactly {@code digits} hex digits. */
    private static int[] hex(String s, int from, int digits) {
        if (from + digits > s.length()) return null;
        try {
            int cp = Integer.parseInt(s.substring(from, from + digits), 16);
            return Character.isValidCodePoint(cp) ? new int[]{cp, digits + 2} : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {code point, characters consumed} for an octal escape of one to three digits starting at {@code from}. */
    private static int[] octal(String s, int from) {
        int end = from;
        while (end < s.length() && end < from + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') end++;
        return new int[]{Integer.parseInt(s.substring(from, end), 8), end - from + 1};
    }

    /** One character of a string literal as jinjava's scanner reads it back. */
    private static void writeChar(char c, char quote, StringBuilder out) {
        switch (c) {
            case '\\' -> out.append("\\\\");
            case '\n' -> out.append("\\n");
            case '\t' -> out.append("\\t");
            case '\r' -> out.append("\\r");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            default -> {
                if (c == quote) out.append('\\');
                out.append(c);
            }
        }
    }

    private static int commentEnd(String s, int from) {
        int end = s.indexOf("#}", from);
        return end < 0 ? s.length() : end + 2;
    }

    /** Copies a raw block's text unchanged up to its {@code {% endraw %}}, which gets lstrip like any tag. */
    private static int rawBlock(String s, int from, StringBuilder out) {
        Matcher end = RAW_END.matcher(s);
        if (!end.find(from)) {
            out.append(s, from, s.length());
            return s.length();
        }
        out.append(s, from, end.start());
        if (s.charAt(end.start() + 2) == '+') {
            out.append("{%").append(s, end.start() + 3, end.end());
        } else {
            lstrip(s, end.start(), out);
            out.append(s, end.start(), end.end());
        }
        return end.end();
    }
}
