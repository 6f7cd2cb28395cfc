package dev.vane.core.jinja;

import dev.vane.core.jinja.Token.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds the statement tree of a template from its tokens, following Jinja2's parser rule for rule, so that
 * precedence is Jinja2's: {@code not x is defined} is {@code not (x is defined)}, {@code namespace(n=a - 1)} passes
 * {@code a - 1}, {@code 2 ** 3 ** 2} is {@code (2 ** 3) ** 2}, a filter binds tighter than any operator
 * ({@code -x|abs} filters {@code -x}), {@code a if c} without {@code else} is undefined when {@code c} is false.
 *
 * <p>Nesting is bounded ({@link #MAX_DEPTH} levels of tags and of brackets or operators), so a hostile template
 * fails with a message instead of exhausting the stack.
 *
 * <pre>{@code
 * List<Node> body = new Parser(new Lexer(source).tokens()).template();
 * }</pre>
 */
final class Parser {
    /** Deepest nesting of tags, and of sub-expressions, a template may have; chat templates use about ten. */
    static final int MAX_DEPTH = 100;

    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");
    private static final Set<String> REFUSED_TAGS = Set.of("include", "import", "from", "extends", "block", "do",
            "autoescape");

    private final List<Token> tokens;
    private int at;
    private int depth;
    /** The filter and test names used, with the line of their first use: checked once parsed, as Jinja2 does. */
    final java.util.Map<String, Integer> filterNames = new java.util.TreeMap<>();
    final java.util.Map<String, Integer> testNames = new java.util.TreeMap<>();

    Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    List<Node> template() {
        List<Node> body = statements(Set.of());
        if (current().kind() != Kind.END) throw error("unexpected '" + peekName() + "' tag");
        return body;
    }

    // ---- statements ----------------------------------------------------------------------------------------

    /** Statements up to a {@code {% name %}} whose name is one of {@code ends}; leaves the stream at that name. */
    private List<Node> statements(Set<String> ends) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.kind()) {
                case END -> {
                    if (!ends.isEmpty()) {
                        throw error("unexpected end of template, expected " + String.join(" or ", ends.stream()
                                .sorted().map(e -> "'" + e + "'").toList()));
                    }
                    return body;
                }
                case DATA -> {
                    body.add(new Node.Text(t.text(), t.line()));
                    at++;
                }
                case VARIABLE_BEGIN -> {
                    at++;
                    Expr value = tuple(false, true, Set.of(), false);
                    expect(Kind.VARIABLE_END, "end of print statement");
                    body.add(new Node.Output(value, t.line()));
                }
                case BLOCK_BEGIN -> {
                    at++;
                    if (current().kind() == Kind.NAME && ends.contains(current().text())) return body;
                    if (current().kind() == Kind.NAME && !ends.isEmpty() && current().text().startsWith("end")) {
                        throw error("unexpected '" + current().text() + "', expected " + String.join(" or ",
                                ends.stream().sorted().map(e -> "'" + e + "'").toList()));
                    }
                    Node statement = statement();
                    if (statement != null) body.add(statement);
                    expect(Kind.BLOCK_END, "end of statement block");
                }
                default -> throw error("unexpected " + t.describe());
            }
        }
    }

    private Node statement() {
        Token t = current();
        if (t.kind() != Kind.NAME) throw error("tag name expected");
        enter();
        try {
            at++;
            return switch (t.text()) {
                case "if" -> ifStatement(t.line());
                case "for" -> forStatement(t.line());
                case "set" -> setStatement(t.line());
                case "macro" -> macro(t.line());
                case "call" -> callBlock(t.line());
                case "filter" -> filterBlock(t.line());
                case "with" -> with(t.line());
                case "print" -> new Node.Output(tuple(false, true, Set.of(), false), t.line());
                case "break" -> new Node.Break(t.line());
                case "continue" -> new Node.Continue(t.line());
                case "generation" -> generation(t.line());
                default -> throw REFUSED_TAGS.contains(t.text())
                        ? new TemplateError("the '" + t.text() + "' tag is not allowed in a chat template", t.line())
                        : new TemplateError("unknown tag '" + t.text() + "'", t.line());
            };
        } finally {
            depth--;
        }
    }

    /** The body up to one of {@code ends}, then that end's name; returns the body. */
    private List<Node> bodyUntil(Set<String> ends) {
        expect(Kind.BLOCK_END, "end of statement block");
        return statements(ends);
    }

    private String endName() {
        Token name = current();
        at++;
        return name.text();
    }

    private Node ifStatement(int line) {
        List<Expr> tests = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        tests.add(tuple(false, false, Set.of(), false));
        while (true) {
            bodies.add(bodyUntil(Set.of("elif", "else", "endif")));
            String end = endName();
            if (end.equals("elif")) {
                tests.add(tuple(false, false, Set.of(), false));
            } else if (end.equals("else")) {
                List<Node> otherwise = bodyUntil(Set.of("endif"));
                at++;
                return new Node.If(tests, bodies, otherwise, line);
            } else {
                return new Node.If(tests, bodies, List.of(), line);
            }
        }
    }

    private Node forStatement(int line) {
        Node.Target target = assignTarget(Set.of("in"), false);
        expectName("in");
        Expr iterable = tuple(false, false, Set.of("recursive"), false);
        Expr filter = null;
        if (current().isName("if")) {
            at++;
            filter = expression(true);
        }
        boolean recursive = false;
        if (current().isName("recursive")) {
            at++;
            recursive = true;
        }
        List<Node> body = bodyUntil(Set.of("endfor", "else"));
        List<Node> otherwise = List.of();
        if (endName().equals("else")) {
            otherwise = bodyUntil(Set.of("endfor"));
            at++;
        }
        return new Node.For(target, iterable, filter, body, otherwise, recursive, line);
    }

    private Node setStatement(int line) {
        Node.Target target = assignTarget(Set.of(), true);
        if (current().isOperator("=")) {
            at++;
            return new Node.Set(target, tuple(false, true, Set.of(), false), line);
        }
        List<Expr.Filter> filters = filterChain(false);
        List<Node> body = bodyUntil(Set.of("endset"));
        at++;
        return new Node.SetBlock(target, filters, body, line);
    }

    private Node macro(int line) {
        String name = expectNameToken().text();
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        signature(parameters, defaults);
        List<Node> body = bodyUntil(Set.of("endmacro"));
        at++;
        return new Node.Macro(name, parameters, defaults, body, line);
    }

    private void signature(List<String> parameters, List<Expr> defaults) {
        expectOperator("(");
        boolean anyDefault = false;
        while (!current().isOperator(")")) {
            if (!parameters.isEmpty()) expectOperator(",");
            if (current().isOperator(")")) break;
            parameters.add(expectNameToken().text());
            if (current().isOperator("=")) {
                at++;
                defaults.add(expression(true));
                anyDefault = true;
            } else {
                if (anyDefault) throw error("non-default argument follows default argument");
                defaults.add(null);
            }
        }
        at++;
    }

    private Node callBlock(int line) {
        List<String> parameters = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        if (current().isOperator("(")) signature(parameters, defaults);
        Expr call = expression(true);
        if (!(call instanceof Expr.Call c)) throw error("expected call");
        List<Node> body = bodyUntil(Set.of("endcall"));
        at++;
        return new Node.CallBlock(c, parameters, defaults, body, line);
    }

    private Node filterBlock(int line) {
        List<Expr.Filter> filters = filterChain(true);
        List<Node> body = bodyUntil(Set.of("endfilter"));
        at++;
        return new Node.FilterBlock(filters, body, line);
    }

    private Node with(int line) {
        List<Node.Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (current().kind() != Kind.BLOCK_END) {
            if (!targets.isEmpty()) expectOperator(",");
            targets.add(assignTarget(Set.of(), false));
            expectOperator("=");
            values.add(expression(true));
        }
        List<Node> body = bodyUntil(Set.of("endwith"));
        at++;
        return new Node.With(targets, values, body, line);
    }

    /** transformers' {@code {% generation %}} marks the assistant's tokens; rendering it is rendering its body. */
    private Node generation(int line) {
        List<Node> body = bodyUntil(Set.of("endgeneration"));
        at++;
        return new Node.If(List.of(new Expr.Literal(true, line)), List.of(body), List.of(), line);
    }

    private Node.Target assignTarget(Set<String> extraEnds, boolean withNamespace) {
        if (withNamespace && current().kind() == Kind.NAME && peek(1).isOperator(".")) {
            String namespace = current().text();
            at += 2;
            return new Node.Target.NamespaceAttribute(namespace, expectNameToken().text());
        }
        Expr target = tuple(true, true, extraEnds, false);
        return toTarget(target);
    }

    private Node.Target toTarget(Expr e) {
        if (e instanceof Expr.Name n) return new Node.Target.Name(n.name());
        if (e instanceof Expr.ListOf l && l.tuple()) {
            List<Node.Target> names = new ArrayList<>();
            for (Expr item : l.items()) names.add(toTarget(item));
            return new Node.Target.Unpack(names);
        }
        throw new TemplateError("can't assign to " + e.getClass().getSimpleName().toLowerCase(), e.line());
    }

    // ---- expressions ---------------------------------------------------------------------------------------

    /**
     * Jinja2's {@code parse_tuple}: one expression, or a tuple if commas follow. {@code simplified}: only primaries
     * (assignment targets); {@code conditional}: allow {@code a if b else c}.
     */
    private Expr tuple(boolean simplified, boolean conditional, Set<String> extraEnds, boolean explicitParentheses) {
        int line = current().line();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) expectOperator(",");
            if (tupleEnds(extraEnds)) break;
            items.add(simplified ? primary() : expression(conditional));
            if (current().isOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple) {
            if (!items.isEmpty()) return items.getFirst();
            if (!explicitParentheses) throw error("expected an expression, got " + current().describe());
        }
        return new Expr.ListOf(items, true, line);
    }

    private boolean tupleEnds(Set<String> extraEnds) {
        Token t = current();
        return t.kind() == Kind.VARIABLE_END || t.kind() == Kind.BLOCK_END || t.isOperator(")")
                || (t.kind() == Kind.NAME && extraEnds.contains(t.text()));
    }

    private Expr expression(boolean conditional) {
        enter();
        try {
            return conditional ? conditional() : or();
        } finally {
            depth--;
        }
    }

    private Expr conditional() {
        Expr then = or();
        while (current().isName("if")) {
            int line = current().line();
            at++;
            Expr test = or();
            Expr otherwise = null;
            if (current().isName("else")) {
                at++;
                otherwise = conditional();
            }
            then = new Expr.Conditional(test, then, otherwise, line);
        }
        return then;
    }

    private Expr or() {
        Expr left = and();
        while (current().isName("or")) {
            int line = current().line();
            at++;
            left = new Expr.Binary("or", left, and(), line);
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (current().isName("and")) {
            int line = current().line();
            at++;
            left = new Expr.Binary("and", left, not(), line);
        }
        return left;
    }

    private Expr not() {
        if (current().isName("not")) {
            int line = current().line();
            at++;
            enter();
            try {
                return new Expr.Unary("not", not(), line);
            } finally {
                depth--;
            }
        }
        return compare();
    }

    private Expr compare() {
        int line = current().line();
        Expr first = math1();
        List<String> operators = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.kind() == Kind.OPERATOR && COMPARISONS.contains(t.text())) {
                at++;
                operators.add(t.text());
            } else if (t.isName("in")) {
                at++;
                operators.add("in");
            } else if (t.isName("not") && peek(1).isName("in")) {
                at += 2;
                operators.add("not in");
            } else {
                break;
            }
            operands.add(math1());
        }
        return operators.isEmpty() ? first : new Expr.Compare(first, operators, operands, line);
    }

    private Expr math1() {
        Expr left = concat();
        while (current().isOperator("+") || current().isOperator("-")) {
            Token op = current();
            at++;
            left = new Expr.Binary(op.text(), left, concat(), op.line());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (current().isOperator("~")) {
            Token op = current();
            at++;
            left = new Expr.Binary("~", left, math2(), op.line());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (current().isOperator("*") || current().isOperator("/") || current().isOperator("//")
                || current().isOperator("%")) {
            Token op = current();
            at++;
            left = new Expr.Binary(op.text(), left, pow(), op.line());
        }
        return left;
    }

    /** Jinja2's {@code **} is left-associative, unlike Python's. */
    private Expr pow() {
        Expr left = unary(true);
        while (current().isOperator("**")) {
            Token op = current();
            at++;
            left = new Expr.Binary("**", left, unary(true), op.line());
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Token t = current();
        int saved = depth;
        enter();
        try {
            Expr node;
            if (t.isOperator("-") || t.isOperator("+")) {
                at++;
                node = new Expr.Unary(t.text(), unary(false), t.line());
            } else {
                node = primary();
            }
            node = postfix(node);
            return withFilter ? filterExpression(node) : node;
        } finally {
            depth = saved; // postfixes and filters chained on this operand counted as nesting too
        }
    }

    private Expr primary() {
        Token t = current();
        switch (t.kind()) {
            case NAME -> {
                at++;
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Literal(true, t.line());
                    case "false", "False" -> new Expr.Literal(false, t.line());
                    case "none", "None" -> new Expr.Literal(null, t.line());
                    default -> new Expr.Name(t.text(), t.line());
                };
            }
            case STRING -> {
                StringBuilder text = new StringBuilder();
                while (current().kind() == Kind.STRING) {
                    text.append(current().text());
                    at++;
                }
                return new Expr.Literal(text.toString(), t.line());
            }
            case NUMBER -> {
                at++;
                return new Expr.Literal(t.value(), t.line());
            }
            case OPERATOR -> {
                enter();
                try {
                    switch (t.text()) {
                        case "(" -> {
                            at++;
                            Expr inner = tuple(false, true, Set.of(), true);
                            expectOperator(")");
                            return inner;
                        }
                        case "[" -> {
                            return list(t.line());
                        }
                        case "{" -> {
                            return dict(t.line());
                        }
                        default -> {
                        }
                    }
                } finally {
                    depth--;
                }
            }
            default -> {
            }
        }
        throw error("unexpected " + t.describe());
    }

    private Expr list(int line) {
        at++;
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!items.isEmpty()) expectOperator(",");
            if (current().isOperator("]")) break;
            items.add(expression(true));
        }
        at++;
        return new Expr.ListOf(items, false, line);
    }

    private Expr dict(int line) {
        at++;
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            if (!keys.isEmpty()) expectOperator(",");
            if (current().isOperator("}")) break;
            keys.add(expression(true));
            expectOperator(":");
            values.add(expression(true));
        }
        at++;
        return new Expr.DictOf(keys, values, line);
    }

    private Expr postfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator(".") || t.isOperator("[")) {
                node = subscript(node);
            } else if (t.isOperator("(")) {
                node = new Expr.Call(node, callArguments(), t.line());
            } else {
                return node;
            }
            deeper();
        }
    }

    private Expr filterExpression(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator("|")) {
                node = filter(node);
            } else if (t.isName("is")) {
                node = test(node);
            } else if (t.isOperator("(")) {
                node = new Expr.Call(node, callArguments(), t.line());
            } else {
                return node;
            }
            deeper();
        }
    }

    private Expr subscript(Expr node) {
        Token t = current();
        at++;
        if (t.isOperator(".")) {
            Token name = current();
            at++;
            if (name.kind() == Kind.NAME) return new Expr.Attribute(node, name.text(), name.line());
            if (name.kind() == Kind.NUMBER && name.value() instanceof Long) {
                return new Expr.Item(node, new Expr.Literal(name.value(), name.line()), name.line());
            }
            throw new TemplateError("expected name or number after '.'", name.line());
        }
        List<Expr> keys = new ArrayList<>();
        Expr.Slice slice = null;
        while (!current().isOperator("]")) {
            if (!keys.isEmpty() || slice != null) expectOperator(",");
            Expr key = subscribed(node, t.line());
            if (key instanceof Expr.Slice s) slice = s;
            else keys.add(key);
        }
        at++;
        if (slice != null) {
            if (!keys.isEmpty()) throw new TemplateError("a slice cannot be combined with other subscripts", t.line());
            return slice;
        }
        if (keys.isEmpty()) throw new TemplateError("expected a subscript", t.line());
        Expr key = keys.size() == 1 ? keys.getFirst() : new Expr.ListOf(keys, true, t.line());
        return new Expr.Item(node, key, t.line());
    }

    private Expr subscribed(Expr target, int line) {
        Expr start = null;
        if (!current().isOperator(":")) {
            start = expression(true);
            if (!current().isOperator(":")) return start;
        }
        at++;
        Expr stop = null;
        if (!current().isOperator("]") && !current().isOperator(",") && !current().isOperator(":")) {
            stop = expression(true);
        }
        Expr step = null;
        if (current().isOperator(":")) {
            at++;
            if (!current().isOperator("]") && !current().isOperator(",")) step = expression(true);
        }
        return new Expr.Slice(target, start, stop, step, line);
    }

    private Expr.Arguments callArguments() {
        expectOperator("(");
        List<Expr> positional = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> named = new ArrayList<>();
        boolean needComma = false;
        while (!current().isOperator(")")) {
            if (needComma) {
                expectOperator(",");
                if (current().isOperator(")")) break;
            }
            if (current().isOperator("*") || current().isOperator("**")) {
                throw error("'*' and '**' arguments are not supported in chat templates");
            }
            if (current().kind() == Kind.NAME && peek(1).isOperator("=")) {
                names.add(current().text());
                at += 2;
                named.add(expression(true));
            } else {
                if (!names.isEmpty()) throw error("positional argument follows keyword argument");
                positional.add(expression(true));
            }
            needComma = true;
        }
        at++;
        return new Expr.Arguments(positional, names, named);
    }

    private Expr filter(Expr node) {
        at++; // '|'
        Token name = expectNameToken();
        String filter = dotted(name.text());
        filterNames.putIfAbsent(filter, name.line());
        Expr.Arguments arguments = current().isOperator("(") ? callArguments() : Expr.Arguments.NONE;
        return new Expr.Filter(node, filter, arguments, name.line());
    }

    private List<Expr.Filter> filterChain(boolean startInline) {
        List<Expr.Filter> filters = new ArrayList<>();
        while (current().isOperator("|") || startInline) {
            if (!startInline) at++;
            startInline = false;
            Token name = expectNameToken();
            String filter = dotted(name.text());
            filterNames.putIfAbsent(filter, name.line());
            Expr.Arguments arguments = current().isOperator("(") ? callArguments() : Expr.Arguments.NONE;
            filters.add(new Expr.Filter(null, filter, arguments, name.line()));
        }
        return filters;
    }

    private String dotted(String name) {
        StringBuilder full = new StringBuilder(name);
        while (current().isOperator(".")) {
            at++;
            full.append('.').append(expectNameToken().text());
        }
        return full.toString();
    }

    private Expr test(Expr node) {
        int line = current().line();
        at++; // 'is'
        boolean negated = false;
        if (current().isName("not")) {
            at++;
            negated = true;
        }
        String name = dotted(expectNameToken().text());
        testNames.putIfAbsent(name, line);
        Expr.Arguments arguments = Expr.Arguments.NONE;
        Token t = current();
        if (t.isOperator("(")) {
            arguments = callArguments();
        } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.NUMBER
                || t.isOperator("(") || t.isOperator("[") || t.isOperator("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) throw error("you cannot chain multiple tests with is");
            Expr argument = postfix(primary());
            arguments = new Expr.Arguments(List.of(argument), List.of(), List.of());
        }
        return new Expr.Test(node, name, arguments, negated, line);
    }

    // ---- stream helpers ------------------------------------------------------------------------------------

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw new TemplateError("the template nests more than " + MAX_DEPTH + " levels deep", current().line());
        }
    }

    /** A chain of postfixes and filters ({@code x|upper|upper|...}) nests as deep for the renderer; {@link #unary} resets. */
    private void deeper() {
        enter();
    }

    private Token current() {
        return tokens.get(at);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    private String peekName() {
        return current().text();
    }

    private void expect(Kind kind, String what) {
        if (current().kind() != kind) throw error("expected " + what + ", got " + current().describe());
        at++;
    }

    private void expectOperator(String op) {
        if (!current().isOperator(op)) throw error("expected '" + op + "', got " + current().describe());
        at++;
    }

    private void expectName(String name) {
        if (!current().isName(name)) throw error("expected '" + name + "', got " + current().describe());
        at++;
    }

    private Token expectNameToken() {
        Token t = current();
        if (t.kind() != Kind.NAME) throw error("expected a name, got " + t.describe());
        at++;
        return t;
    }

    private TemplateError error(String problem) {
        return new TemplateError(problem, current().line());
    }
}
