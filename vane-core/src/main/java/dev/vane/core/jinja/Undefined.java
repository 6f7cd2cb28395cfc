package dev.vane.core.jinja;

/**
 * Jinja2's {@code Undefined}: what a missing variable, attribute or item evaluates to. It prints as nothing, is
 * false, iterates as empty and equals only another undefined; any other use (an attribute of it, arithmetic,
 * calling it) fails with its hint, as {@code messages[0].role} fails on an empty conversation.
 *
 * <pre>{@code
 * {{ missing }}            -> ""
 * {{ messages[0].role }}   -> error "list object has no element 0" when messages is empty
 * }</pre>
 *
 * @param hint why it is undefined, the message of the error its use raises
 */
record Undefined(String hint) {
    static Undefined name(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    TemplateError error() {
        return TemplateError.of(hint);
    }

    @Override
    public String toString() {
        return "";
    }
}
