package dev.vane.core.jinja;

import java.util.List;

/** A statement of the template: literal text, {@code {{ }}} output, and the {@code {% %}} tags chat templates use. */
sealed interface Node {
    int line();

    record Text(String text, int line) implements Node {
    }

    record Output(Expr value, int line) implements Node {
    }

    /** {@code if}/{@code elif} branches in order, then the {@code else} body (possibly empty). */
    record If(List<Expr> tests, List<List<Node>> bodies, List<Node> otherwise, int line) implements Node {
    }

    /**
     * {@code {% for target in iterable if filter recursive %}body{% else %}otherwise{% endfor %}}; {@code filter} may
     * be null.
     */
    record For(Target target, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, boolean recursive,
               int line) implements Node {
    }

    /** {@code {% set target = value %}}. */
    record Set(Target target, Expr value, int line) implements Node {
    }

    /** {@code {% set name | filters %}body{% endset %}}: the rendered body, through the filters if any. */
    record SetBlock(Target target, List<Expr.Filter> filters, List<Node> body, int line) implements Node {
    }

    /** {@code {% macro name(params) %}}; {@code defaults} holds one entry (possibly null) per parameter. */
    record Macro(String name, List<String> parameters, List<Expr> defaults, List<Node> body, int line) implements Node {
    }

    /** {@code {% call(args) macro(...) %}body{% endcall %}}: the body becomes the macro's {@code caller()}. */
    record CallBlock(Expr.Call call, List<String> parameters, List<Expr> defaults, List<Node> body, int line)
            implements Node {
    }

    /** {@code {% filter name %}body{% endfilter %}}. */
    record FilterBlock(List<Expr.Filter> filters, List<Node> body, int line) implements Node {
    }

    /** {@code {% with a = 1 %}body{% endwith %}}. */
    record With(List<Target> targets, List<Expr> values, List<Node> body, int line) implements Node {
    }

    record Break(int line) implements Node {
    }

    record Continue(int line) implements Node {
    }

    /** Where {@code set} and {@code for} assign: a name, a namespace attribute, or a tuple to unpack. */
    sealed interface Target {
        record Name(String name) implements Target {
        }

        record NamespaceAttribute(String namespace, String attribute) implements Target {
        }

        record Unpack(List<Target> names) implements Target {
        }
    }
}
