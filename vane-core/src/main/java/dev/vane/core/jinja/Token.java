package dev.vane.core.jinja;

/**
 * One token of a template as Jinja2's lexer cuts it: literal text between tags, the start and end of
 * {@code {{ }}} and {@code {% %}}, and the names, literals and operators inside them.
 *
 * @param kind  what the token is
 * @param text  the text (a name, an operator, the decoded value of a string literal, literal template text)
 * @param value the value of a number literal ({@link Long} or {@link Double}), else null
 * @param line  the template line it starts on (1-based)
 */
record Token(Kind kind, String text, Object value, int line) {
    enum Kind { DATA, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, NUMBER, OPERATOR, END }

    boolean is(Kind k, String t) {
        return kind == k && text.equals(t);
    }

    boolean isOperator(String op) {
        return is(Kind.OPERATOR, op);
    }

    boolean isName(String name) {
        return is(Kind.NAME, name);
    }

    /** How an error message names this token. */
    String describe() {
        return switch (kind) {
            case END -> "end of template";
            case VARIABLE_END -> "end of print statement";
            case BLOCK_END -> "end of statement block";
            case STRING -> "string";
            case DATA -> "template data";
            default -> "'" + text + "'";
        };
    }
}
