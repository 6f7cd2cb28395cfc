package dev.vane.core.jinja;

/**
 * Why a template could not be parsed or rendered, with the template line where it happened. A template that
 * calls {@code raise_exception(message)} (Gemma's "System role not supported") ends in a {@code TemplateError}
 * whose {@link #raisedByTemplate()} is true and whose message is the template's own.
 *
 * <pre>{@code
 * try {
 *     template.render(vars);
 * } catch (TemplateError e) {
 *     System.err.println(e.getMessage());   // "line 3: unexpected '}' (expected an expression)"
 * }
 * }</pre>
 */
public final class TemplateError extends RuntimeException {
    private final int line;
    private final boolean raisedByTemplate;
    private final String problem;

    TemplateError(String problem, int line) {
        this(problem, line, false);
    }

    private TemplateError(String problem, int line, boolean raisedByTemplate) {
        super(line > 0 && !raisedByTemplate ? "line " + line + ": " + problem : problem, null, false, false);
        this.problem = problem;
        this.line = line;
        this.raisedByTemplate = raisedByTemplate;
    }

    /** The error of {@code raise_exception(message)}: the template's message, unchanged. */
    static TemplateError raised(String message, int line) {
        return new TemplateError(message, line, true);
    }

    /** A problem found without knowing the line yet; the renderer adds it ({@link #atLine}). */
    static TemplateError of(String problem) {
        return new TemplateError(problem, 0);
    }

    /** This error with {@code line} filled in if it had none. */
    TemplateError atLine(int line) {
        return this.line > 0 || line <= 0 ? this : new TemplateError(problem, line, raisedByTemplate);
    }

    /** The template line (1-based) where it happened; 0 if unknown. */
    public int line() {
        return line;
    }

    /** The problem without the line. */
    public String problem() {
        return problem;
    }

    /** Whether the template itself stopped the render with {@code raise_exception}. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
