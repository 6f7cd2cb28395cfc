package dev.vane.core.jinja;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.time.temporal.IsoFields;
import java.util.Locale;

/**
 * Python's {@code datetime.now().strftime(format)} on Linux in the C locale, for transformers' {@code strftime_now}
 * (Llama 3.1 writes {@code strftime_now("%d %b %Y")} into its system prompt). One pass over the format, so a
 * long format costs time in proportion to its length, and the result is size-checked as it grows. The time is
 * naive local time, as {@code datetime.now()} gives: {@code %z} and {@code %Z} are empty.
 *
 * <pre>{@code
 * Strftime.format("%d %b %Y", LocalDateTime.of(2024, 7, 26, 0, 0))   // "26 Jul 2024"
 * }</pre>
 */
final class Strftime {
    private Strftime() {
    }

    static String format(String format, LocalDateTime t) {
        StringBuilder out = new StringBuilder();
        String[] fields = new String[128]; // each directive's text, worked out once: the time is fixed for the call
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean unpadded = false;
            if (d == '-' && i + 1 < format.length()) { // glibc: %-d without padding
                unpadded = true;
                d = format.charAt(++i);
            }
            String field = d < fields.length ? fields[d] : null;
            if (field == null) {
                field = field(d, t);
                if (d < fields.length && field != null) fields[d] = field;
            }
            if (field == null) {
                out.append('%');
                if (unpadded) out.append('-');
                out.append(d);
                continue;
            }
            if (unpadded) field = field.replaceFirst("^[0 ](?=.)", "");
            Budget.checkLength((long) out.length() + field.length());
            out.append(field);
        }
        return out.toString();
    }

    private static String field(char d, LocalDateTime t) {
        return switch (d) {
            case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
            case 'u' -> Integer.toString(t.getDayOfWeek().getValue());
            case 'd' -> two(t.getDayOfMonth());
            case 'e' -> t.getDayOfMonth() < 10 ? " " + t.getDayOfMonth() : Integer.toString(t.getDayOfMonth());
            case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'm' -> two(t.getMonthValue());
            case 'y' -> two(t.getYear() % 100);
            case 'Y' -> Integer.toString(t.getYear());
            case 'C' -> two(t.getYear() / 100);
            case 'H' -> two(t.getHour());
            case 'I' -> two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'M' -> two(t.getMinute());
            case 'S' -> two(t.getSecond());
            case 'f' -> padded(t.getNano() / 1000, 6);
            case 'j' -> padded(t.getDayOfYear(), 3);
            case 'U' -> two((t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7);
            case 'W' -> two((t.getDayOfYear() + 6 - (t.getDayOfWeek().getValue() + 6) % 7) / 7);
            case 'V' -> two(t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            case 'G' -> Integer.toString(t.get(IsoFields.WEEK_BASED_YEAR));
            case 'z', 'Z' -> "";
            case 'c' -> field('a', t) + " " + field('b', t) + " " + field('e', t) + " " + field('X', t) + " " + t.getYear();
            case 'x', 'D' -> field('m', t) + "/" + field('d', t) + "/" + field('y', t);
            case 'X', 'T' -> field('H', t) + ":" + field('M', t) + ":" + field('S', t);
            case 'F' -> t.getYear() + "-" + field('m', t) + "-" + field('d', t);
            case 'R' -> field('H', t) + ":" + field('M', t);
            case 'n' -> "\n";
            case 't' -> "\t";
            case '%' -> "%";
            default -> null;
        };
    }

    private static String two(int n) {
        return n < 10 ? "0" + n : Integer.toString(n);
    }

    private static String padded(int n, int width) {
        String digits = Integer.toString(n);
        return "0".repeat(Math.max(0, width - digits.length())) + digits;
    }
}
