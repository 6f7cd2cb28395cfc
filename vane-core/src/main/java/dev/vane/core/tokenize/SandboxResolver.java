package dev.vane.core.tokenize;

import com.hubspot.jinjava.el.TypeConvertingMapELResolver;
import com.hubspot.jinjava.el.ext.JinjavaBeanELResolver;
import com.hubspot.jinjava.el.ext.JinjavaListELResolver;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.MethodNotFoundException;
import jinjava.javax.el.PropertyNotWritableException;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a chat template may reach through {@code .} and {@code []}: an allowlist, replacing jinjava's default bean
 * resolver (which calls any public Java method not on a short denylist, so {@code ''.getBytes()} or a JSON
 * object's Jackson internals would be reachable).
 *
 * <ul>
 *   <li>items of lists and maps ({@code messages[0]}, {@code message['content']}, {@code message.content}),
 *       characters of strings ({@code s[0]}, {@code s[-1]});
 *   <li>the Python {@code str} methods of {@link PythonStrings}, and the read-only list and dict methods that
 *       Jinja2's ImmutableSandboxedEnvironment (transformers' environment) allows: {@code index}, {@code count},
 *       {@code copy}, {@code items}, {@code keys}, {@code values}, {@code get};
 *   <li>the {@code loop} variable's attributes and {@code loop.cycle(...)};
 *   <li>jinjava's own calls of filters and tests (how {@code x|trim} and {@code x is defined} are evaluated).
 * </ul>
 * Any other attribute reads as undefined (as an unknown attribute does in Jinja2) and any other method call fails
 * with "... is not available in chat templates".
 *
 * <pre>{@code
 * JinjavaConfig.newBuilder().withElResolver(new SandboxResolver())
 * }</pre>
 */
final class SandboxResolver extends CompositeELResolver {
    SandboxResolver() {
        add(new JinjavaListELResolver(true));
        add(new TypeConvertingMapELResolver(true));
        add(new Allowlist());
    }

    /** The last resolver of the chain: resolves every non-null base, so nothing falls through to reflection. */
    private static final class Allowlist extends ELResolver {
        /** Only used to call filters and tests, which jinjava dispatches as method calls on their objects. */
        private final JinjavaBeanELResolver filtersAndTests = new JinjavaBeanELResolver(true);

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            if (base == null) return null; // a variable: the interpreter resolves it from the context
            context.setPropertyResolved(true);
            if (base instanceof ForLoop loop) return loopAttribute(loop, Objects.toString(property));
            if ((base instanceof String || base instanceof SafeString) && isIndex(property)) {
                return character(base.toString(), Integer.parseInt(property.toString()));
            }
            return null;
        }

        private static Object loopAttribute(ForLoop loop, String name) {
            return switch (name) {
                case "index" -> loop.getIndex();
                case "index0" -> loop.getIndex0();
                case "revindex" -> loop.getRevindex();
                case "revindex0" -> loop.getRevindex0();
                case "first" -> loop.isFirst();
                case "last" -> loop.isLast();
                case "length" -> loop.getLength();
                case "depth" -> loop.getDepth();
                case "depth0" -> loop.getDepth0();
                default -> null;
            };
        }

        /** jinjava passes {@code s[0]} as the property name "0". */
        private static boolean isIndex(Object property) {
            return property instanceof Number || (property instanceof String p && p.matches("-?\\d{1,9}"));
        }

        /**
         * {@code s[i]}: Python indexes code points and counts negative indices from the end; out of range is
         * undefined, as Jinja2 makes it.
         */
        private static String character(String s, int index) {
            int length = s.codePointCount(0, s.length());
            int i = index < 0 ? index + length : index;
            if (i < 0 || i >= length) return null;
            int at = s.offsetByCodePoints(0, i);
            return s.substring(at, at + Character.charCount(s.codePointAt(at)));
        }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            if (base == null) return null;
            String name = Objects.toString(method);
            Object[] args = params == null ? new Object[0] : params;
            if ((base instanceof Filter && name.equals("filter"))
                    || (base instanceof ExpTest && (name.equals("evaluate") || name.equals("evaluateNegated")))) {
                return filtersAndTests.invoke(context, base, method, paramTypes, params);
            }
            Object result;
            try {
                if ((base instanceof String || base instanceof SafeString) && PythonStrings.METHODS.contains(name)) {
                    result = PythonStrings.call(base.toString(), name, args);
                } else if (base instanceof Map<?, ?> map && isDictMethod(name, args.length)) {
                    result = dictMethod(map, name, args);
                } else if (base instanceof List<?> list && isListMethod(name, args.length)) {
                    result = listMethod(list, name, args);
                } else if (base instanceof ForLoop loop && name.equals("cycle") && args.length > 0) {
                    result = loop.cycle(args.length == 1 && args[0] instanceof Object[] a ? a : args);
                } else {
                    throw new MethodNotFoundException("'" + name + "' is not available in chat templates (on "
                            + typeName(base) + ")");
                }
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                // jinjava swallows IllegalArgumentException from a call and reports "cannot find method"; the
                // Python-style message says what was wrong.
                throw new ELException(typeName(base) + "." + name + "(): " + e.getMessage());
            }
            context.setPropertyResolved(true);
            return result;
        }

        private static boolean isDictMethod(String name, int arity) {
            return switch (name) {
                case "items", "keys", "values", "copy" -> arity == 0;
                case "get" -> arity == 1 || arity == 2;
                default -> false;
            };
        }

        private static Object dictMethod(Map<?, ?> map, String name, Object[] args) {
            return switch (name) {
                case "items" -> new ArrayList<>(map.entrySet());
                case "keys" -> new ArrayList<>(map.keySet());
                case "values" -> new ArrayList<>(map.values());
                case "copy" -> new java.util.LinkedHashMap<>(map);
                default -> map.containsKey(args[0]) ? map.get(args[0]) : (args.length > 1 ? args[1] : null);
            };
        }

        private static boolean isListMethod(String name, int arity) {
            return switch (name) {
                case "index", "count" -> arity == 1;
                case "copy" -> arity == 0;
                default -> false;
            };
        }

        private static Object listMethod(List<?> list, String name, Object[] args) {
            return switch (name) {
                case "index" -> {
                    int at = list.indexOf(args[0]);
                    if (at < 0) throw new IllegalArgumentException(args[0] + " is not in list");
                    yield at;
                }
                case "count" -> list.stream().filter(x -> Objects.equals(x, args[0])).count();
                default -> new ArrayList<>(list);
            };
        }

        /** Python's name for the type, so messages read like the template's world rather than Java's. */
        private static String typeName(Object base) {
            if (base instanceof String || base instanceof SafeString) return "str";
            if (base instanceof Map<?, ?>) return "dict";
            if (base instanceof Collection<?>) return "list";
            if (base instanceof Number) return "number";
            if (base instanceof Boolean) return "bool";
            if (base instanceof ForLoop) return "loop";
            return "object";
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            if (base != null) context.setPropertyResolved(true);
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {
            if (base != null) throw new PropertyNotWritableException("chat templates cannot modify objects");
        }

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            if (base != null) context.setPropertyResolved(true);
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return base == null ? null : Object.class;
        }
    }
}
