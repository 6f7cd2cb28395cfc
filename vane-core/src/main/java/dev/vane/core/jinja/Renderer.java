package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a parsed template: walks the statements, evaluates expressions with Python's semantics
 * ({@link Values}), looks attributes up through the sandbox ({@link Access}), and charges every step to the
 * render's {@link Budget}. One renderer serves one render.
 *
 * <p>Scopes are Jinja2's: a {@code set} inside a loop body is gone at the next iteration and after the loop
 * ({@code namespace} is the way out), a macro sees the variables of the place it was defined plus its
 * arguments, {@code if} opens no scope.
 *
 * <pre>{@code
 * String text = new Renderer(budget).render(body, variables);
 * }</pre>
 */
final class Renderer {
    private final Budget budget;
    private final java.time.Clock clock;
    private int evalDepth;
    private int macroDepth;

    Renderer(Budget budget, java.time.Clock clock) {
        this.budget = budget;
        this.clock = clock;
    }

    /** The local time {@code strftime_now} formats. */
    java.time.LocalDateTime now() {
        return java.time.LocalDateTime.now(clock);
    }

    Budget budget() {
        return budget;
    }

    /** A variable scope; lookups go to the parent when a name is not set here. */
    static final class Scope {
        private final Scope parent;
        /** Made on the first assignment: most loop iterations set only their variable and {@code loop}. */
        private Map<String, Object> vars;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars == null) continue;
                Object v = s.vars.get(name);
                if (v != null || s.vars.containsKey(name)) return v;
            }
            return Undefined.name(name);
        }

        void set(String name, Object value) {
            if (vars == null) vars = new HashMap<>(4);
            vars.put(name, value);
        }
    }

    private static final class Break extends RuntimeException {
        static final Break INSTANCE = new Break();

        private Break() {
            super(null, null, false, false);
        }
    }

    private static final class Continue extends RuntimeException {
        static final Continue INSTANCE = new Continue();

        private Continue() {
            super(null, null, false, false);
        }
    }

    String render(List<Node> body, Map<String, Object> variables) {
        Scope globals = new Scope(null);
        Globals.install(globals);
        Scope scope = new Scope(globals);
        variables.forEach(scope::set);
        StringBuilder out = new StringBuilder();
        try {
            render(body, scope, out);
        } catch (Break | Continue misplaced) {
            throw TemplateError.of("'break' or 'continue' outside a loop");
        }
        return out.toString();
    }

    void render(List<Node> body, Scope scope, StringBuilder out) {
        for (Node node : body) {
            budget.charge(1);
            try {
                render(node, scope, out);
            } catch (TemplateError e) {
                throw e.atLine(node.line());
            }
        }
    }

    private void render(Node node, Scope scope, StringBuilder out) {
        switch (node) {
            case Node.Text t -> write(out, t.text());
            case Node.Output o -> write(out, Values.str(eval(o.value(), scope)));
            case Node.If i -> {
                for (int k = 0; k < i.tests().size(); k++) {
                    if (Values.truthy(eval(i.tests().get(k), scope))) {
                        render(i.bodies().get(k), scope, out);
                        return;
                    }
                }
                render(i.otherwise(), scope, out);
            }
            case Node.For f -> forLoop(f, eval(f.iterable(), scope), scope, out, 0);
            case Node.Set s -> assign(s.target(), eval(s.value(), scope), scope);
            case Node.SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                render(s.body(), new Scope(scope), captured);
                Object value = captured.toString();
                for (Expr.Filter f : s.filters()) value = Filters.apply(f.name(), value, arguments(f.arguments(), scope), this);
                assign(s.target(), value, scope);
            }
            case Node.Macro m -> scope.set(m.name(), new Macro(m.name(), m.parameters(), m.defaults(), m.body(), scope, null));
            case Node.CallBlock c -> {
                Macro caller = new Macro("caller", c.parameters(), c.defaults(), c.body(), scope, null);
                Object function = eval(c.call().function(), scope);
                if (!(function instanceof Macro macro)) throw TemplateError.of("{% call %} needs a macro");
                write(out, Values.str(macro.withCaller(caller).call(arguments(c.call().arguments(), scope), this)));
            }
            case Node.FilterBlock fb -> {
                StringBuilder captured = new StringBuilder();
                render(fb.body(), scope, captured);
                Object value = captured.toString();
                for (Expr.Filter f : fb.filters()) value = Filters.apply(f.name(), value, arguments(f.arguments(), scope), this);
                write(out, Values.str(value));
            }
            case Node.With w -> {
                Scope inner = new Scope(scope);
                for (int k = 0; k < w.targets().size(); k++) {
                    assign(w.targets().get(k), eval(w.values().get(k), scope), inner);
                }
                render(w.body(), inner, out);
            }
            case Node.Break b -> throw Break.INSTANCE;
            case Node.Continue c -> throw Continue.INSTANCE;
        }
    }

    void write(StringBuilder out, String text) {
        Budget.checkLength((long) out.length() + text.length());
        budget.chars(text.length());
        out.append(text);
    }

    private void forLoop(Node.For f, Object iterable, Scope scope, StringBuilder out, int depth0) {
        List<Object> items = Values.iterate(iterable);
        budget.charge(items.size());
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                budget.charge(1);
                Scope test = new Scope(scope);
                assign(f.target(), item, test);
                if (Values.truthy(eval(f.filter(), test))) kept.add(item);
            }
            items = kept;
        }
        if (items.isEmpty()) {
            render(f.otherwise(), scope, out);
            return;
        }
        Callable recurse = f.recursive() ? (arguments, renderer) -> {
            if (arguments.positional().size() != 1) throw TemplateError.of("loop() takes exactly one argument");
            StringBuilder inner = new StringBuilder();
            if (depth0 + 1 > Budget.MAX_MACRO_DEPTH) throw TemplateError.of("recursive loop nested too deep");
            forLoop(f, arguments.positional().getFirst(), scope, inner, depth0 + 1);
            return inner.toString();
        } : null;
        Loop loop = new Loop(items, depth0, recurse);
        for (int i = 0; i < items.size(); i++) {
            budget.charge(1);
            loop.index0 = i;
            Scope iteration = new Scope(scope);
            assign(f.target(), items.get(i), iteration);
            iteration.set("loop", loop);
            try {
                render(f.body(), iteration, out);
            } catch (Continue next) {
                // next iteration
            } catch (Break stop) {
                break;
            }
        }
    }

    private void assign(Node.Target target, Object value, Scope scope) {
        switch (target) {
            case Node.Target.Name n -> scope.set(n.name(), value);
            case Node.Target.NamespaceAttribute a -> {
                if (!(scope.get(a.namespace()) instanceof Namespace ns)) {
                    throw TemplateError.of("cannot assign attribute on non-namespace object");
                }
                ns.attributes.put(a.attribute(), value);
            }
            case Node.Target.Unpack u -> {
                List<Object> values = Values.iterate(value);
                if (values.size() != u.names().size()) {
                    throw TemplateError.of((values.size() < u.names().size() ? "not enough" : "too many")
                            + " values to unpack (expected " + u.names().size() + ", got " + values.size() + ")");
                }
                for (int k = 0; k < values.size(); k++) assign(u.names().get(k), values.get(k), scope);
            }
        }
    }

    // ---- expressions ---------------------------------------------------------------------------------------

    Object eval(Expr e, Scope scope) {
        if (++evalDepth > Budget.MAX_NESTING) {
            evalDepth--;
            throw new TemplateError("the expression nests more than " + Budget.MAX_NESTING + " levels deep", e.line());
        }
        try {
            budget.charge(1);
            Object value = evaluate(e, scope);
            if (makesValues(e)) chargeFor(value);
            return value;
        } catch (TemplateError error) {
            throw error.atLine(e.line());
        } finally {
            evalDepth--;
        }
    }

    /** Whether an expression builds a new value (a name, an item or a literal only refers to one). */
    private static boolean makesValues(Expr e) {
        return e instanceof Expr.Binary || e instanceof Expr.Filter || e instanceof Expr.Call || e instanceof Expr.Slice;
    }

    /**
     * Counts a new string or list against the render's totals ({@link Budget#chars}, {@link Budget#items}): each
     * value alone is bounded by {@link Budget#checkLength}, but keeping thousands of them must fail too.
     */
    private void chargeFor(Object value) {
        if (value instanceof String s) budget.chars(s.length());
        else if (value instanceof java.util.Collection<?> c) budget.items(c.size());
        else if (value instanceof Map<?, ?> m) budget.items(m.size());
    }

    private Object evaluate(Expr e, Scope scope) {
        return switch (e) {
            case Expr.Literal l -> l.value();
            case Expr.Name n -> scope.get(n.name());
            case Expr.ListOf l -> {
                Budget.checkItems(l.items().size());
                budget.items(l.items().size());
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr item : l.items()) items.add(eval(item, scope));
                yield l.tuple() ? new Tuple(items) : items;
            }
            case Expr.DictOf d -> {
                budget.items(d.keys().size());
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int k = 0; k < d.keys().size(); k++) {
                    Object key = Access.hashable(eval(d.keys().get(k), scope));
                    Object existing = Values.findKey(map, key);
                    map.put(existing == Values.MISSING ? key : existing, eval(d.values().get(k), scope));
                }
                yield map;
            }
            case Expr.Attribute a -> Access.attribute(eval(a.target(), scope), a.name());
            case Expr.Item i -> Access.item(eval(i.target(), scope), eval(i.key(), scope));
            case Expr.Slice s -> Access.slice(eval(s.target(), scope), optional(s.start(), scope),
                    optional(s.stop(), scope), optional(s.step(), scope), budget);
            case Expr.Call c -> call(eval(c.function(), scope), arguments(c.arguments(), scope));
            case Expr.Filter f -> Filters.apply(f.name(), eval(f.value(), scope), arguments(f.arguments(), scope), this);
            case Expr.Test t -> {
                boolean result = Tests.apply(t.name(), eval(t.value(), scope), arguments(t.arguments(), scope), this);
                yield t.negated() != result;
            }
            case Expr.Unary u -> switch (u.operator()) {
                case "not" -> !Values.truthy(eval(u.operand(), scope));
                case "-" -> Values.negate(eval(u.operand(), scope));
                default -> {
                    Object v = eval(u.operand(), scope);
                    if (!Values.isNumber(v)) throw TemplateError.of("bad operand type for unary +: '" + Values.typeName(v) + "'");
                    yield v instanceof Boolean b ? (Object) (b ? 1L : 0L) : v;
                }
            };
            case Expr.Binary b -> binary(b, scope);
            case Expr.Compare c -> compare(c, scope);
            case Expr.Conditional c -> {
                if (Values.truthy(eval(c.test(), scope))) yield eval(c.then(), scope);
                yield c.otherwise() != null ? eval(c.otherwise(), scope) : new Undefined("the inline if-expression on line "
                        + c.line() + " evaluated to false and no else section was defined.");
            }
        };
    }

    private Object optional(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private Object binary(Expr.Binary b, Scope scope) {
        Object left = eval(b.left(), scope);
        switch (b.operator()) {
            case "and" -> {
                return Values.truthy(left) ? eval(b.right(), scope) : left;
            }
            case "or" -> {
                return Values.truthy(left) ? left : eval(b.right(), scope);
            }
            case "~" -> {
                String l = Values.str(left);
                String r = Values.str(eval(b.right(), scope));
                Budget.checkLength((long) l.length() + r.length());
                return l + r;
            }
            default -> {
                return Values.binary(b.operator(), left, eval(b.right(), scope));
            }
        }
    }

    private Object compare(Expr.Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int k = 0; k < c.operators().size(); k++) {
            Object right = eval(c.operands().get(k), scope);
            String op = c.operators().get(k);
            boolean holds = switch (op) {
                case "==" -> Values.equal(left, right);
                case "!=" -> !Values.equal(left, right);
                case "in" -> Values.contains(right, left);
                case "not in" -> !Values.contains(right, left);
                case "<" -> Values.compare(left, right, op) < 0;
                case "<=" -> Values.compare(left, right, op) <= 0;
                case ">" -> Values.compare(left, right, op) > 0;
                default -> Values.compare(left, right, op) >= 0;
            };
            if (!holds) return false;
            left = right;
        }
        return true;
    }

    Callable.Arguments arguments(Expr.Arguments a, Scope scope) {
        if (a.positional().isEmpty() && a.names().isEmpty()) return Callable.Arguments.NONE;
        List<Object> positional = new ArrayList<>(a.positional().size());
        for (Expr p : a.positional()) positional.add(eval(p, scope));
        Map<String, Object> named = new LinkedHashMap<>();
        for (int k = 0; k < a.names().size(); k++) {
            if (named.containsKey(a.names().get(k))) {
                throw TemplateError.of("keyword argument repeated: " + a.names().get(k));
            }
            named.put(a.names().get(k), eval(a.named().get(k), scope));
        }
        return new Callable.Arguments(positional, named);
    }

    Object call(Object function, Callable.Arguments arguments) {
        if (function instanceof Undefined u) throw u.error();
        if (!(function instanceof Callable callable)) {
            throw TemplateError.of("'" + Values.typeName(function) + "' object is not callable");
        }
        return callable.call(arguments, this);
    }

    /** A {@code {% macro %}}, closed over the scope it was defined in. */
    final class Macro implements Callable {
        private final String name;
        private final List<String> parameters;
        private final List<Expr> defaults;
        private final List<Node> body;
        private final Scope closure;
        private final Macro caller;

        Macro(String name, List<String> parameters, List<Expr> defaults, List<Node> body, Scope closure, Macro caller) {
            this.name = name;
            this.parameters = parameters;
            this.defaults = defaults;
            this.body = body;
            this.closure = closure;
            this.caller = caller;
        }

        Macro withCaller(Macro caller) {
            return new Macro(name, parameters, defaults, body, closure, caller);
        }

        @Override
        public Object call(Arguments arguments, Renderer renderer) {
            if (macroDepth >= Budget.MAX_MACRO_DEPTH) {
                throw TemplateError.of("macro calls nested more than " + Budget.MAX_MACRO_DEPTH + " deep");
            }
            Scope scope = new Scope(closure);
            List<Object> positional = arguments.positional();
            for (int k = 0; k < parameters.size(); k++) {
                String parameter = parameters.get(k);
                if (k < positional.size()) {
                    if (arguments.named().containsKey(parameter)) {
                        throw TemplateError.of("macro '" + name + "' got multiple values for argument '" + parameter + "'");
                    }
                    scope.set(parameter, positional.get(k));
                } else if (arguments.named().containsKey(parameter)) {
                    scope.set(parameter, arguments.named().get(parameter));
                } else if (defaults.get(k) != null) {
                    scope.set(parameter, eval(defaults.get(k), scope));
                } else {
                    scope.set(parameter, new Undefined("parameter '" + parameter + "' was not provided"));
                }
            }
            List<Object> extra = positional.size() > parameters.size()
                    ? positional.subList(parameters.size(), positional.size()) : List.of();
            Map<Object, Object> extraNamed = new LinkedHashMap<>();
            arguments.named().forEach((k, v) -> {
                if (!parameters.contains(k)) extraNamed.put(k, v);
            });
            scope.set("varargs", new Tuple(extra));
            scope.set("kwargs", extraNamed);
            if (caller != null) scope.set("caller", caller);
            StringBuilder out = new StringBuilder();
            macroDepth++;
            try {
                render(body, scope, out);
            } finally {
                macroDepth--;
            }
            return out.toString();
        }

        @Override
        public String toString() {
            return "<Macro '" + name + "'>";
        }
    }
}
