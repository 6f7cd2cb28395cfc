package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global functions of transformers' chat-template environment: Jinja2's {@code range} (at most 100 000
 * items, as in its sandbox), {@code dict}, {@code namespace}, {@code cycler}, {@code joiner}, and transformers'
 * {@code raise_exception(message)} and {@code strftime_now(format)}.
 *
 * <pre>{@code
 * {% set ns = namespace(found=false) %}   {{ raise_exception('Only user and assistant roles are supported!') }}
 * }</pre>
 */
final class Globals {
    private Globals() {
    }

    static void install(Renderer.Scope scope) {
        scope.set("range", named("range", Globals::range));
        scope.set("dict", named("dict", (a, r) -> new LinkedHashMap<Object, Object>(a.named())));
        scope.set("namespace", named("namespace", Globals::namespace));
        scope.set("cycler", named("cycler", (a, r) -> cycler(a.positional())));
        scope.set("joiner", named("joiner", (a, r) -> joiner(Values.str(a.get(0, "sep", ", ")))));
        scope.set("raise_exception", named("raise_exception", (a, r) -> {
            throw TemplateError.raised(Values.str(a.get(0, "message", "")), 0);
        }));
        scope.set("strftime_now", named("strftime_now", (a, r) -> {
            if (a.positional().size() != 1 || !(a.positional().getFirst() instanceof String format)) {
                throw TemplateError.of("strftime_now() takes one format string");
            }
            return Strftime.format(format, r.now());
        }));
    }

    /** A callable that prints like a Python function. */
    private static Callable named(String name, Callable body) {
        return new Callable() {
            @Override
            public Object call(Arguments arguments, Renderer renderer) {
                return body.call(arguments, renderer);
            }

            @Override
            public String toString() {
                return "<function " + name + ">";
            }
        };
    }

    private static Object range(Callable.Arguments a, Renderer renderer) {
        List<Object> p = a.expect("range", 3).positional();
        for (Object v : p) {
            if (!Values.isInteger(v)) throw TemplateError.of("'" + Values.typeName(v) + "' object cannot be interpreted as an integer");
        }
        long start = p.size() >= 2 ? Values.toLong(p.get(0)) : 0;
        long stop = p.size() >= 2 ? Values.toLong(p.get(1)) : p.isEmpty() ? 0 : Values.toLong(p.get(0));
        long step = p.size() == 3 ? Values.toLong(p.get(2)) : 1;
        if (p.isEmpty()) throw TemplateError.of("range expected at least 1 argument, got 0");
        if (step == 0) throw TemplateError.of("range() arg 3 must not be zero");
        double count = Math.max(0, Math.ceil(((double) stop - start) / step));
        if (count > Budget.MAX_ITEMS) {
            throw TemplateError.of("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + Budget.MAX_ITEMS + ").");
        }
        renderer.budget().items((long) count);
        List<Object> items = new ArrayList<>((int) count);
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) items.add(i);
        return items;
    }

    private static Object namespace(Callable.Arguments a, Renderer renderer) {
        Namespace ns = new Namespace();
        for (Object p : a.positional()) {
            if (!(p instanceof Map<?, ?> map)) throw TemplateError.of("namespace() takes a dict or keyword arguments");
            map.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
        }
        ns.attributes.putAll(a.named());
        return ns;
    }

    private static Object cycler(List<Object> items) {
        if (items.isEmpty()) throw TemplateError.of("at least one item has to be provided");
        int[] position = {0};
        Namespace ns = new Namespace();
        ns.attributes.put("current", items.getFirst());
        ns.attributes.put("next", (Callable) (a, r) -> {
            Object item = items.get(position[0]);
            position[0] = (position[0] + 1) % items.size();
            ns.attributes.put("current", items.get(position[0]));
            return item;
        });
        ns.attributes.put("reset", (Callable) (a, r) -> {
            position[0] = 0;
            ns.attributes.put("current", items.getFirst());
            return null;
        });
        return ns;
    }

    private static Object joiner(String separator) {
        boolean[] used = {false};
        return (Callable) (a, r) -> {
            if (!used[0]) {
                used[0] = true;
                return "";
            }
            return separator;
        };
    }
}
