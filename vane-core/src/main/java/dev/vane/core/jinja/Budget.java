package dev.vane.core.jinja;

/**
 * What one render may use, checked before the work is done: output and string length (a
 * {@code 'a'|center(2000000000)} fails before anything is allocated), list length, nesting of values, steps of
 * work (nodes rendered, loop iterations, characters and items produced, so three nested loops over
 * {@code range(1000)} stop) and wall-clock time as a last resort.
 *
 * <pre>{@code
 * Budget budget = new Budget(Budget.MAX_STEPS, Duration.ofSeconds(2));
 * budget.charge(1);                     // one node rendered
 * Budget.checkLength(width);            // before building a string of that length
 * }</pre>
 */
final class Budget {
    /** Longest string or output (characters): far above any context window, far below a memory problem. */
    static final long MAX_CHARS = 4L * 1024 * 1024;
    /** Longest list; Jinja2's sandbox allows {@code range} up to 100 000 items, so this is its limit too. */
    static final long MAX_ITEMS = 100_000;
    /** Deepest nesting of values printed or serialised, and of expression evaluation and macro calls. */
    static final int MAX_NESTING = 500;
    /** Deepest macro recursion; templates that render JSON schemas recurse a few levels. */
    static final int MAX_MACRO_DEPTH = 64;
    /**
     * Units of work per render: about half a second of the slowest work; Llama 3.2's template over a thousand
     * messages takes under a hundred thousand.
     */
    static final long MAX_STEPS = 10_000_000;

    /**
     * Characters a render may make in all (new strings and output): what a template can keep alive is bounded by
     * this, tens of megabytes, where the per-string cap alone would let it keep thousands of 4 MB strings. A real
     * prompt of a million characters makes about three million.
     */
    static final long MAX_TOTAL_CHARS = 24L * 1024 * 1024;
    /** List and dict items a render may make in all, for the same reason (a million boxed numbers is ~24 MB). */
    static final long MAX_TOTAL_ITEMS = 1_000_000;

    private final long limit;
    private long chars;
    private long items;
    private final long deadlineNanos;
    private long remaining;
    private long sinceClock;

    Budget(long steps, java.time.Duration time) {
        this.limit = steps;
        this.remaining = steps;
        this.deadlineNanos = System.nanoTime() + time.toNanos();
    }

    /** Takes {@code units} of work; fails when the steps or the time are spent. */
    void charge(long units) {
        remaining -= units;
        if (remaining < 0) {
            throw TemplateError.of("the template did more than " + limit + " steps of work (a runaway loop?)");
        }
        sinceClock += units;
        if (sinceClock > 10_000) { // System.nanoTime costs more than a step
            sinceClock = 0;
            if (System.nanoTime() > deadlineNanos) throw TemplateError.of("the template ran out of time");
        }
    }

    /** Counts {@code n} characters of new strings or output made. */
    void chars(long n) {
        chars += n;
        charge(n >> 10);
        if (chars > MAX_TOTAL_CHARS) {
            throw TemplateError.of("the template made more than " + MAX_TOTAL_CHARS + " characters of strings in all");
        }
    }

    /** Counts {@code n} items of new lists or dicts made. */
    void items(long n) {
        items += n;
        charge(n);
        if (items > MAX_TOTAL_ITEMS) {
            throw TemplateError.of("the template made more than " + MAX_TOTAL_ITEMS + " list items in all");
        }
    }

    /** Fails if a string of {@code length} characters would be too long; call it before building the string. */
    static void checkLength(long length) {
        if (length > MAX_CHARS) {
            throw TemplateError.of("a string of " + length + " characters would exceed the limit of " + MAX_CHARS);
        }
    }

    /** Fails if a list of {@code size} items would be too long; call it before building the list. */
    static void checkItems(long size) {
        if (size > MAX_ITEMS) {
            throw TemplateError.of("a list of " + size + " items would exceed the limit of " + MAX_ITEMS);
        }
    }
}
