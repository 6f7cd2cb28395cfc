package dev.vane.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.Map;

/**
 * Jinja2's {@code trim} filter, {@code str(value).strip(chars)}: strips Unicode whitespace as Python does
 * (jinjava's own strips ASCII control characters instead, and turns a missing value into "null").
 *
 * <pre>{@code
 * {{ message['content'] | trim }}      "  Why?  " -> "Why?"
 * {{ "--x--" | trim("-") }}            -> "x"
 * }</pre>
 */
final class PythonTrimFilter implements Filter {
    @Override
    public String getName() {
        return "trim";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        String chars = args.length > 0 ? args[0] : null;
        return PythonStrings.strip(var == null ? "" : var.toString(), chars, true, true);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object chars = args.length > 0 ? args[0] : kwargs.get("chars");
        return PythonStrings.strip(var == null ? "" : var.toString(), chars == null ? null : chars.toString(), true, true);
    }
}
