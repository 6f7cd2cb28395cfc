package dev.vane.core.jinja;

import java.util.List;

/**
 * The {@code loop} variable inside {@code {% for %}}: {@code index}, {@code index0}, {@code first}, {@code last},
 * {@code length}, {@code revindex}, {@code revindex0}, {@code previtem}, {@code nextitem}, {@code depth},
 * {@code depth0}, {@code cycle(...)}, {@code changed(...)}, and, in a recursive loop, {@code loop(children)}.
 *
 * <pre>{@code
 * {% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}...{% endfor %}
 * }</pre>
 */
final class Loop implements Callable {
    private final List<Object> items;
    private final int depth0;
    private final Callable recurse;
    int index0;
    private Object lastChanged = Values.MISSING;

    Loop(List<Object> items, int depth0, Callable recurse) {
        this.items = items;
        this.depth0 = depth0;
        this.recurse = recurse;
    }

    Object attribute(String name) {
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> (long) depth0 + 1;
            case "depth0" -> (long) depth0;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (Callable) (arguments, renderer) -> {
                if (arguments.positional().isEmpty()) throw TemplateError.of("no items for cycling given");
                return arguments.positional().get(index0 % arguments.positional().size());
            };
            case "changed" -> (Callable) (arguments, renderer) -> {
                Object value = arguments.positional();
                if (Values.equal(value, lastChanged)) return false;
                lastChanged = value;
                return true;
            };
            default -> new Undefined("'LoopContext object' has no attribute '" + name + "'");
        };
    }

    @Override
    public Object call(Arguments arguments, Renderer renderer) {
        if (recurse == null) {
            throw TemplateError.of("the loop must have the 'recursive' modifier to be called");
        }
        return recurse.call(arguments, renderer);
    }

    @Override
    public String toString() {
        return "<LoopContext " + (index0 + 1) + "/" + items.size() + ">";
    }
}
