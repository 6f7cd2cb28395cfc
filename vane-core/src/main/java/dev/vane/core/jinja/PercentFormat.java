package dev.vane.core.jinja;

import java.util.List;

/**
 * Python's {@code format % values} (and Jinja2's {@code format} filter) for the conversions templates use:
 * {@code %s}, {@code %r}, {@code %d}/{@code %i}, {@code %f} with a precision, {@code %%}.
 *
 * <pre>{@code
 * {{ '%s-%d' % ('a', 3) }}   -> a-3
 * }</pre>
 */
final class PercentFormat {
    private PercentFormat() {
    }

    static String format(String format, Object values) {
        List<Object> args = values instanceof Tuple t ? t : List.of(values == null ? "None" : values);
        if (values == null) args = java.util.Collections.singletonList(null);
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (++i >= format.length()) throw TemplateError.of("incomplete format");
            int precision = -1;
            if (format.charAt(i) == '.') {
                int start = ++i;
                while (i < format.length() && Character.isDigit(format.charAt(i))) i++;
                precision = Integer.parseInt(format.substring(start, i).isEmpty() ? "0" : format.substring(start, i));
                if (i >= format.length()) throw TemplateError.of("incomplete format");
            }
            char conversion = format.charAt(i);
            if (conversion == '%') {
                out.append('%');
                continue;
            }
            if (next >= args.size()) throw TemplateError.of("not enough arguments for format string");
            Object v = args.get(next++);
            switch (conversion) {
                case 's' -> out.append(Values.str(v));
                case 'r' -> out.append(Values.repr(v));
                case 'd', 'i' -> {
                    if (!Values.isNumber(v)) throw TemplateError.of("%" + conversion + " format: a real number is required, not " + Values.typeName(v));
                    out.append(v instanceof Double d ? (long) (double) d : Values.toLong(v));
                }
                case 'f' -> {
                    if (!Values.isNumber(v)) throw TemplateError.of("must be real number, not " + Values.typeName(v));
                    out.append(new java.math.BigDecimal(Values.toDouble(v))
                            .setScale(precision < 0 ? 6 : precision, java.math.RoundingMode.HALF_EVEN).toPlainString());
                }
                default -> throw TemplateError.of("unsupported format character '" + conversion + "'");
            }
            Budget.checkLength(out.length());
        }
        if (next < args.size()) throw TemplateError.of("not all arguments converted during string formatting");
        return out.toString();
    }
}
