package dev.vane.core.jinja;

import java.util.AbstractList;
import java.util.List;

/**
 * A Python tuple: an immutable list that prints as {@code (1, 2)}. Made by {@code (a, b)} literals,
 * {@code dict.items()} pairs and {@code loop.cycle}-style helpers; everything else about it is a list.
 *
 * <pre>{@code
 * {{ (1, 'a') }}   -> (1, 'a')
 * }</pre>
 */
final class Tuple extends AbstractList<Object> {
    private final List<Object> items;

    Tuple(List<?> items) {
        this.items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
    }

    static Tuple of(Object... items) {
        return new Tuple(java.util.Arrays.asList(items));
    }

    @Override
    public Object get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
    }
}
