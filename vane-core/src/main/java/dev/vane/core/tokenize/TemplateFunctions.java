package dev.vane.core.tokenize;

import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The functions transformers adds to the chat-template environment: {@code raise_exception(message)}, which
 * templates call to reject a conversation they cannot format, and {@code strftime_now(format)}, which Llama 3.1
 * and later templates use to write today's date into the system prompt.
 *
 * <pre>{@code
 * {% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}
 * {% set date_string = strftime_now("%d %b %Y") %}      -> "26 Jul 2024"
 * }</pre>
 */
final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** Thrown by {@code raise_exception}; {@link ChatTemplate} finds it among the render errors. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message, null, false, false);
        }
    }

    /** {@code raise_exception(message)}: stops the render with the template's own message. */
    public static String raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    /**
     * {@code strftime_now(format)}: the local date and time in Python's {@code strftime} format, English names as
     * in Python's default C locale.
     */
    public static String strftimeNow(String format) {
        if (format == null) throw new IllegalArgumentException("strftime_now() needs a format string");
        // Without a % the text is literal in Python; jinjava would read it as a Java DateTimeFormatter pattern.
        if (format.indexOf('%') < 0) return format;
        return StrftimeFormatter.toDateTimeFormatter(format).withLocale(Locale.ENGLISH).format(ZonedDateTime.now());
    }
}
