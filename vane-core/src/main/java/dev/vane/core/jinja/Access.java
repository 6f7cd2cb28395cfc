package dev.vane.core.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sandbox's doorway to values: {@code obj.name}, {@code obj[key]} and {@code obj[a:b:c]} with Jinja2's rules
 * (attribute first for {@code .}, item first for {@code []}, a missing one is {@link Undefined}), reaching only
 * what {@code ImmutableSandboxedEnvironment} allows: items of lists, dicts and strings, the attributes of
 * {@code loop} and of namespaces, and the non-mutating methods of {@code str}, {@code dict} and {@code list}
 * ({@link Methods}). Names starting with {@code _} are refused outright; no Java object is ever reachable,
 * because a template only ever holds the values {@link Values} lists.
 *
 * <pre>{@code
 * Access.attribute(message, "content")     // message["content"]
 * Access.attribute("Hi ", "strip")         // the bound method, called as content.strip()
 * }</pre>
 */
final class Access {
    private Access() {
    }

    static Object attribute(Object target, String name) {
        if (target instanceof Undefined u) throw u.error();
        if (name.startsWith("_")) {
            throw TemplateError.of("access to attribute '" + name + "' of '" + Values.typeName(target)
                    + "' object is unsafe");
        }
        Object method = Methods.bind(target, name);
        if (method != null) return method;
        return switch (target) {
            case Map<?, ?> map -> {
                Object key = Values.findKey(map, name);
                yield key != Values.MISSING ? map.get(key) : missingAttribute(target, name);
            }
            case Namespace ns -> ns.attributes.containsKey(name) ? ns.attributes.get(name) : missingAttribute(target, name);
            case Loop loop -> loop.attribute(name);
            default -> missingAttribute(target, name);
        };
    }

    private static Undefined missingAttribute(Object target, String name) {
        return new Undefined("'" + Values.typeName(target) + " object' has no attribute '" + name + "'");
    }

    static Object item(Object target, Object key) {
        if (target instanceof Undefined u) throw u.error();
        switch (target) {
            case Map<?, ?> map -> {
                Object found = Values.findKey(map, hashable(key));
                if (found != Values.MISSING) return map.get(found);
            }
            case String s when Values.isInteger(key) -> {
                int[] cps = s.codePoints().toArray();
                int i = index(Values.toLong(key), cps.length);
                return i < 0 ? missingElement(target, key) : Character.toString(cps[i]);
            }
            case List<?> list when Values.isInteger(key) -> {
                int i = index(Values.toLong(key), list.size());
                return i < 0 ? missingElement(target, key) : list.get(i);
            }
            default -> {
            }
        }
        if (key instanceof String name) {
            if (name.startsWith("_")) return attribute(target, name); // fails as unsafe
            Object method = Methods.bind(target, name);
            if (method != null) return method;
            if (target instanceof Namespace || target instanceof Loop) return attribute(target, name);
            return missingAttribute(target, name);
        }
        return missingElement(target, key);
    }

    private static Undefined missingElement(Object target, Object key) {
        return new Undefined(Values.typeName(target) + " object has no element " + Values.repr(key));
    }

    /** A Python index into {@code size} items (negative counts from the end), or -1 when out of range. */
    private static int index(long i, int size) {
        long at = i < 0 ? i + size : i;
        return at < 0 || at >= size ? -1 : (int) at;
    }

    /** A dict key must be hashable in Python: lists and dicts are not. */
    static Object hashable(Object key) {
        if ((key instanceof List<?> && !(key instanceof Tuple)) || key instanceof Map<?, ?>) {
            throw TemplateError.of("unhashable type: '" + Values.typeName(key) + "'");
        }
        return key;
    }

    /** Python's {@code seq[start:stop:step]} on a list, tuple or string. */
    static Object slice(Object target, Object start, Object stop, Object step, Budget budget) {
        if (target instanceof Undefined u) throw u.error();
        long s = step == null ? 1 : sliceIndex(step);
        if (s == 0) throw TemplateError.of("slice step cannot be zero");
        List<Object> items;
        int[] cps = null;
        if (target instanceof String str) {
            cps = str.codePoints().toArray();
            items = null;
        } else if (target instanceof List<?> list) {
            items = new ArrayList<>(list);
        } else {
            throw TemplateError.of("'" + Values.typeName(target) + "' object is not subscriptable");
        }
        int n = cps != null ? cps.length : items.size();
        long lo;
        long hi;
        if (s > 0) {
            lo = start == null ? 0 : clamp(sliceIndex(start), n, 0, n);
            hi = stop == null ? n : clamp(sliceIndex(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(sliceIndex(start), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(sliceIndex(stop), n, -1, n - 1);
        }
        budget.charge(n / 16 + 1);
        if (cps != null) {
            StringBuilder out = new StringBuilder();
            for (long i = lo; s > 0 ? i < hi : i > hi; i += s) out.appendCodePoint(cps[(int) i]);
            return out.toString();
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; s > 0 ? i < hi : i > hi; i += s) out.add(items.get((int) i));
        return target instanceof Tuple ? new Tuple(out) : out;
    }

    private static long sliceIndex(Object v) {
        if (!Values.isInteger(v)) {
            throw TemplateError.of("slice indices must be integers or None");
        }
        return Values.toLong(v);
    }

    private static long clamp(long i, int n, long min, long max) {
        long at = i < 0 ? i + n : i;
        return Math.max(min, Math.min(max, at));
    }
}
