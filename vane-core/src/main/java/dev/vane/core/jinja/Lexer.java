package dev.vane.core.jinja;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Cuts a template into {@link Token}s exactly as Jinja2's lexer does in transformers' environment
 * ({@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}):
 * <ul>
 *   <li>line breaks ({@code \r\n}, {@code \r}) become {@code \n} and one trailing newline is dropped;
 *   <li>{@code {%- }, {@code {{-}, {@code {#-} strip all whitespace before the tag, {@code -%}}, {@code -}}}, {@code -#}}
 *       all whitespace after it;
 *   <li>trim_blocks: the first newline after {@code %}} or {@code #}} goes (not after {@code }}}); {@code +%}} keeps it;
 *   <li>lstrip_blocks: spaces and tabs between the start of a line and {@code {%} or {@code {#} go; {@code {%+} keeps them;
 *   <li>{@code {% raw %}...{% endraw %}} is literal text; comments vanish;
 *   <li>inside brackets an end tag is not an end ({@code {{ {'a': {'b': 1}} }}});
 *   <li>string literals decode Python's escapes ({@code \n}, {@code \x41}, {@code \u00e9}, {@code \U0001F600},
 *       octal); an unknown escape keeps its backslash.
 * </ul>
 *
 * <pre>{@code
 * List<Token> tokens = new Lexer("{% if x %}\n  hi {{ name }}\n{% endif %}").tokens();
 * }</pre>
 */
final class Lexer {
    /** Deepest bracket nesting the lexer accepts; the parser has its own, equal limit. */
    static final int MAX_NESTING = Parser.MAX_DEPTH;

    private final String s;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    /** Whether the text about to be read starts a line (Jinja2: the last tag's end matched a newline). */
    private boolean lineStarting = true;

    Lexer(String source) {
        String normalised = source.replace("\r\n", "\n").replace('\r', '\n');
        if (normalised.endsWith("\n")) normalised = normalised.substring(0, normalised.length() - 1);
        this.s = normalised;
    }

    List<Token> tokens() {
        while (pos < s.length()) {
            int tag = nextTag(pos);
            if (tag < 0) {
                data(s.substring(pos));
                pos = s.length();
                break;
            }
            char kind = s.charAt(tag + 1);
            int afterOpen = tag + 2;
            char sign = afterOpen < s.length() && (s.charAt(afterOpen) == '-' || s.charAt(afterOpen) == '+')
                    ? s.charAt(afterOpen) : 0;
            String text = s.substring(pos, tag);
            text = stripBefore(text, sign, kind != '{');
            data(text);
            line += newlines(s, pos, tag) - newlines(text, 0, text.length());
            pos = afterOpen + (sign != 0 ? 1 : 0);
            int rawEnd = kind == '%' ? rawBegin(pos) : -1;
            if (rawEnd >= 0) {
                pos = rawEnd;
                raw();
            } else if (kind == '#') {
                comment(tag);
            } else {
                tag(kind == '{');
            }
        }
        out.add(new Token(Token.Kind.END, "", null, line));
        return out;
    }

    private void data(String text) {
        if (!text.isEmpty()) {
            out.add(new Token(Token.Kind.DATA, text, null, line));
        }
        line += newlines(text, 0, text.length());
    }

    /** The earliest {@code {{}, {@code {%} or {@code {#} at or after {@code from}, or -1. */
    private int nextTag(int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** The whitespace control before a tag: {@code -} strips everything, else lstrip_blocks for statements and comments. */
    private String stripBefore(String text, char sign, boolean statementOrComment) {
        if (sign == '-') return PythonStrings.strip(text, null, false, true);
        if (sign == '+' || !statementOrComment) return text;
        int lineStart = text.lastIndexOf('\n') + 1;
        if (lineStart == 0 && !lineStarting) return text;
        if (lineStart == text.length()) return text; // nothing between the newline and the tag
        for (int i = lineStart; i < text.length(); i++) {
            if (!PythonStrings.isSpace(text.charAt(i))) return text;
        }
        return text.substring(0, lineStart);
    }

    /** If a {@code raw} tag's body starts at {@code from}, the index after its {@code %}}; else -1. */
    private int rawBegin(int from) {
        int i = skipSpace(from);
        if (!s.startsWith("raw", i)) return -1;
        i = skipSpace(i + 3);
        if (s.startsWith("-%}", i)) return skipSpace(i + 3);
        if (s.startsWith("%}", i)) return i + 2; // Jinja2 applies no trim_blocks after raw's start tag
        return -1;
    }

    /** The text of a raw block up to its {@code {% endraw %}}, which gets the usual whitespace control. */
    private void raw() {
        int startLine = line;
        for (int tag = s.indexOf("{%", pos); tag >= 0; tag = s.indexOf("{%", tag + 1)) {
            int i = tag + 2;
            char sign = i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+') ? s.charAt(i++) : 0;
            i = skipSpace(i);
            if (!s.startsWith("endraw", i)) continue;
            i = skipSpace(i + 6);
            int end = blockEnd(i, "%}");
            if (end < 0) continue;
            String text = stripBefore(s.substring(pos, tag), sign, true);
            line = startLine;
            data(text);
            line = startLine + newlines(s, pos, end);
            lineStarting = s.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw new TemplateError("missing end of raw directive", startLine);
    }

    private void comment(int tag) {
        int startLine = line;
        for (int close = s.indexOf("#}", pos); close >= 0; close = s.indexOf("#}", close + 1)) {
            int from = close > pos && (s.charAt(close - 1) == '-' || s.charAt(close - 1) == '+') ? close - 1 : close;
            int end = blockEnd(from, "#}");
            line = startLine + newlines(s, tag, end);
            lineStarting = s.charAt(end - 1) == '\n';
            pos = end;
            return;
        }
        throw new TemplateError("missing end of comment tag", startLine);
    }

    /**
     * If an end tag ({@code +%}}, {@code -%}} plus whitespace, {@code %}} plus one newline) starts at {@code i},
     * the index after it; else -1.
     */
    private int blockEnd(int i, String close) {
        if (s.startsWith("+" + close, i)) return i + 3;
        if (s.startsWith("-" + close, i)) return skipSpace(i + 3);
        if (s.startsWith(close, i)) {
            int end = i + 2;
            return end < s.length() && s.charAt(end) == '\n' ? end + 1 : end;
        }
        return -1;
    }

    private int skipSpace(int i) {
        while (i < s.length() && PythonStrings.isSpace(s.charAt(i))) i++;
        return i;
    }

    /** The tokens inside {@code {{ }}} or {@code {% %}} up to and including its end. */
    private void tag(boolean variable) {
        int startLine = line;
        out.add(new Token(variable ? Token.Kind.VARIABLE_BEGIN : Token.Kind.BLOCK_BEGIN, variable ? "{{" : "{%", null, line));
        Deque<Character> brackets = new ArrayDeque<>();
        while (true) {
            if (pos >= s.length()) {
                throw new TemplateError("unexpected end of template, expected '" + (variable ? "}}" : "%}") + "'", startLine);
            }
            if (brackets.isEmpty()) {
                int end = variable ? variableEnd(pos) : blockEnd(pos, "%}");
                if (end >= 0) {
                    out.add(new Token(variable ? Token.Kind.VARIABLE_END : Token.Kind.BLOCK_END,
                            variable ? "}}" : "%}", null, line));
                    line += newlines(s, pos, end);
                    lineStarting = s.charAt(end - 1) == '\n';
                    pos = end;
                    return;
                }
            }
            char c = s.charAt(pos);
            if (PythonStrings.isSpace(c)) {
                if (c == '\n') line++;
                pos++;
            } else if (c == '\'' || c == '"') {
                string(c);
            } else if (isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) pos++;
                out.add(new Token(Token.Kind.NAME, s.substring(start, pos), null, line));
            } else {
                String op = operator(pos);
                if (op == null) throw new TemplateError("unexpected char '" + c + "'", line);
                switch (op) {
                    case "(", "[", "{" -> {
                        if (brackets.size() >= MAX_NESTING) {
                            throw new TemplateError("brackets nested more than " + MAX_NESTING + " deep", line);
                        }
                        brackets.push(op.charAt(0));
                    }
                    case ")", "]", "}" -> {
                        char expected = op.equals(")") ? '(' : op.equals("]") ? '[' : '{';
                        if (brackets.isEmpty()) throw new TemplateError("unexpected '" + op + "'", line);
                        if (brackets.peek() != expected) {
                            throw new TemplateError("unexpected '" + op + "', expected '" + close(brackets.peek()) + "'", line);
                        }
                        brackets.pop();
                    }
                    default -> {
                    }
                }
                out.add(new Token(Token.Kind.OPERATOR, op, null, line));
                pos += op.length();
            }
        }
    }

    private static char close(char open) {
        return open == '(' ? ')' : open == '[' ? ']' : '}';
    }

    private int variableEnd(int i) {
        if (s.startsWith("-}}", i)) return skipSpace(i + 3);
        if (s.startsWith("}}", i)) return i + 2;
        return -1;
    }

    /** The operator at {@code i}, longest first ({@code //} before {@code /}), or null. */
    private String operator(int i) {
        char c = s.charAt(i);
        boolean equalsNext = i + 1 < s.length() && s.charAt(i + 1) == '=';
        return switch (c) {
            case '/' -> i + 1 < s.length() && s.charAt(i + 1) == '/' ? "//" : "/";
            case '*' -> i + 1 < s.length() && s.charAt(i + 1) == '*' ? "**" : "*";
            case '=' -> equalsNext ? "==" : "=";
            case '!' -> equalsNext ? "!=" : null;
            case '>' -> equalsNext ? ">=" : ">";
            case '<' -> equalsNext ? "<=" : "<";
            case '+', '-', '%', '~', '[', ']', '(', ')', '{', '}', '.', ':', '|', ',', ';' -> SINGLE[c];
            default -> null;
        };
    }

    private static final String[] SINGLE = new String[128];

    static {
        for (char c : "+-%~[](){}.:|,;".toCharArray()) SINGLE[c] = String.valueOf(c);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Jinja2's integer and float literals, with {@code _} between digits. A float needs digits before its dot. */
    private void number() {
        int start = pos;
        digits();
        boolean isFloat = false;
        if (pos + 1 < s.length() && s.charAt(pos) == '.' && isDigit(s.charAt(pos + 1))
                && !(start > 0 && s.charAt(start - 1) == '.')) {
            pos++;
            digits();
            isFloat = true;
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E') && !(start > 0 && s.charAt(start - 1) == '.')) {
            int e = pos + 1;
            if (e < s.length() && (s.charAt(e) == '+' || s.charAt(e) == '-')) e++;
            if (e < s.length() && isDigit(s.charAt(e))) {
                pos = e;
                digits();
                isFloat = true;
            }
        }
        String text = s.substring(start, pos).replace("_", "");
        Object value;
        if (isFloat) {
            value = Double.parseDouble(text);
        } else {
            try {
                value = Long.parseLong(text);
            } catch (NumberFormatException tooLong) {
                throw new TemplateError("integer literal " + text + " is too large (at most 19 digits)", line);
            }
        }
        out.add(new Token(Token.Kind.NUMBER, text, value, line));
    }

    private void digits() {
        while (pos < s.length() && (isDigit(s.charAt(pos))
                || (s.charAt(pos) == '_' && pos + 1 < s.length() && isDigit(s.charAt(pos + 1))))) pos++;
    }

    private void string(char quote) {
        int startLine = line;
        StringBuilder value = new StringBuilder();
        int i = pos + 1;
        while (true) {
            if (i >= s.length()) throw new TemplateError("unexpected end of string literal", startLine);
            char c = s.charAt(i);
            if (c == quote) break;
            if (c == '\n') line++;
            if (c != '\\' || i + 1 >= s.length()) {
                value.append(c);
                i++;
                continue;
            }
            i = escape(i, value);
        }
        out.add(new Token(Token.Kind.STRING, value.toString(), null, startLine));
        pos = i + 1;
    }

    /** Decodes the escape at {@code i} (a backslash) as Python's {@code unicode-escape} codec does; returns the index after it. */
    private int escape(int i, StringBuilder value) {
        char e = s.charAt(i + 1);
        switch (e) {
            case 'n' -> value.append('\n');
            case 't' -> value.append('\t');
            case 'r' -> value.append('\r');
            case 'b' -> value.append('\b');
            case 'f' -> value.append('\f');
            case 'a' -> value.append('\u0007');
            case 'v' -> value.append('\u000b');
            case '\\', '\'', '"' -> value.append(e);
            case '\n' -> {
                line++;
            }
            case 'x', 'u', 'U' -> {
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                int from = i + 2;
                if (from + digits > s.length() || !isHex(s.substring(from, from + digits))) {
                    throw new TemplateError("truncated \\" + e + " escape in a string literal", line);
                }
                int cp = Integer.parseUnsignedInt(s.substring(from, from + digits), 16);
                if (!Character.isValidCodePoint(cp)) throw new TemplateError("illegal Unicode character in a string literal", line);
                value.appendCodePoint(cp);
                return from + digits;
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    int end = i + 1;
                    while (end < s.length() && end < i + 4 && s.charAt(end) >= '0' && s.charAt(end) <= '7') end++;
                    value.appendCodePoint(Integer.parseInt(s.substring(i + 1, end), 8));
                    return end;
                }
                value.append('\\').append(e); // Python keeps an unknown escape as it is
                if (e == '\n') line++;
            }
        }
        return i + 2;
    }

    private static boolean isHex(String digits) {
        for (int k = 0; k < digits.length(); k++) {
            if (Character.digit(digits.charAt(k), 16) < 0) return false;
        }
        return true;
    }

    private static int newlines(CharSequence text, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == '\n') n++;
        }
        return n;
    }
}
