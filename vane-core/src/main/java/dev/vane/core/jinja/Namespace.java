package dev.vane.core.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Jinja2's {@code namespace(...)}: the one mutable object a template may make, so that a value set inside a loop
 * survives the loop ({@code {% set ns.found = true %}}).
 *
 * <pre>{@code
 * {% set ns = namespace(last_query_index=messages|length - 1) %}
 * }</pre>
 */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();

    @Override
    public String toString() {
        return "<Namespace " + Values.repr(attributes) + ">";
    }
}
