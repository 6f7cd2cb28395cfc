package dev.vane.core.jinja;

import java.util.List;

/**
 * An expression of the template language, as Jinja2's parser builds it. Every expression knows its line, so an
 * error inside a long tag still names where it happened.
 */
sealed interface Expr {
    int line();

    /** A literal: string, number, {@code true}/{@code false}/{@code none}. */
    record Literal(Object value, int line) implements Expr {
    }

    record Name(String name, int line) implements Expr {
    }

    /** {@code [a, b]}, or {@code (a, b)} when {@code tuple}. */
    record ListOf(List<Expr> items, boolean tuple, int line) implements Expr {
    }

    record DictOf(List<Expr> keys, List<Expr> values, int line) implements Expr {
    }

    /** {@code obj.name}: Python attribute first, then item. */
    record Attribute(Expr target, String name, int line) implements Expr {
    }

    /** {@code obj[key]}: item first, then attribute. */
    record Item(Expr target, Expr key, int line) implements Expr {
    }

    /** {@code obj[start:stop:step]}; absent parts are null. */
    record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {
    }

    /** Arguments of a call, a filter or a test. */
    record Arguments(List<Expr> positional, List<String> names, List<Expr> named) {
        static final Arguments NONE = new Arguments(List.of(), List.of(), List.of());
    }

    record Call(Expr function, Arguments arguments, int line) implements Expr {
    }

    /** {@code value | name(args)}. */
    record Filter(Expr value, String name, Arguments arguments, int line) implements Expr {
    }

    /** {@code value is name(args)}, or {@code is not} when {@code negated}. */
    record Test(Expr value, String name, Arguments arguments, boolean negated, int line) implements Expr {
    }

    /** {@code not x}, {@code -x}, {@code +x}. */
    record Unary(String operator, Expr operand, int line) implements Expr {
    }

    /** Arithmetic ({@code + - * / // % **}), {@code ~}, and the short-circuit {@code and}/{@code or}. */
    record Binary(String operator, Expr left, Expr right, int line) implements Expr {
    }

    /** A comparison chain: {@code a < b <= c}, {@code x in y}, {@code x not in y}. */
    record Compare(Expr first, List<String> operators, List<Expr> operands, int line) implements Expr {
    }

    /** {@code then if test else otherwise}; {@code otherwise} may be null (then the result is undefined). */
    record Conditional(Expr test, Expr then, Expr otherwise, int line) implements Expr {
    }
}
