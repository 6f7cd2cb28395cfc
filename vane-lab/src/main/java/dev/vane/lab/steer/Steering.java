package dev.vane.lab.steer;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Several steering vectors applied together, each with its own scale: what a {@code --steer FILE:SCALE}
 * list or a server request's {@code steering} field becomes. Immutable.
 *
 * <pre>{@code
 * Steering s = Steering.none().with(antidote, 2f).with(caa, -1f);
 * Hooks hooks = s.hooks(prompts.size(), promptEnds);     // every batch row steered the same way
 * s.applyTo(hooks, new int[]{3}, new int[]{41});          // or: only batch row 3 (its prompt ends at token 41)
 * }</pre>
 */
public final class Steering {
    /** One vector and its scale. */
    public record Term(SteeringVector vector, float scale) { }

    private static final Steering NONE = new Steering(List.of());
    private final List<Term> terms;

    private Steering(List<Term> terms) {
        this.terms = List.copyOf(terms);
    }

    /** No steering. */
    public static Steering none() {
        return NONE;
    }

    /** One vector at one scale. */
    public static Steering of(SteeringVector vector, float scale) {
        return NONE.with(vector, scale);
    }

    /** This steering plus {@code vector} at {@code scale}. */
    public Steering with(SteeringVector vector, float scale) {
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("steering scale must be finite");
        List<Term> t = new ArrayList<>(terms);
        t.add(new Term(vector, scale));
        return new Steering(t);
    }

    /** True when nothing is applied. */
    public boolean isEmpty() {
        return terms.isEmpty();
    }

    /** The terms in order. */
    public List<Term> terms() {
        return terms;
    }

    /** Fails with a clear message if any vector does not fit {@code config}. */
    public void validateFor(ModelConfig config) {
        for (Term t : terms) t.vector().validateFor(config);
    }

    /**
     * New hooks steering every row of a batch of {@code rows} sequences; {@code promptEnd[r]} is the token
     * index of row r's last instruction token (where CAA-style vectors start).
     */
    public Hooks hooks(int rows, int[] promptEnd) {
        return hooks(rows, promptEnd, false);
    }

    /**
     * As {@link #hooks(int, int[])}; with {@code teacherForced}, vectors that act at the last position of each
     * call act at every position from the prompt end on instead. A scoring pass that feeds prompt and answer
     * in one call must steer each answer position as token-by-token generation would have.
     */
    public Hooks hooks(int rows, int[] promptEnd, boolean teacherForced) {
        Hooks hooks = new Hooks();
        if (promptEnd.length != rows) throw new IllegalArgumentException("one prompt end per row");
        for (Term t : terms) {
            PositionRule rule = t.vector().metadata().positions();
            if (teacherForced && rule == PositionRule.LAST_OF_CALL) rule = PositionRule.FROM_PROMPT_END;
            t.vector().addTo(hooks, t.scale(), rule.positions(promptEnd));
        }
        return hooks;
    }

    /**
     * Whether a teacher-forced pass ({@link #hooks(int, int[], boolean)} with {@code teacherForced}) leaves every
     * position before the prompt end unsteered, so that the prompt's keys and values before it are those of the
     * unsteered model and can be computed once for many steerings ({@code PrefixCache}).
     */
    public boolean leavesPromptAlone() {
        return terms.stream().map(t -> t.vector().metadata().positions()).noneMatch(r -> r == PositionRule.ALL);
    }

    /**
     * Registers this steering on {@code hooks} for the listed batch rows only, {@code promptEnd[i]} belonging
     * to {@code rows[i]}: how one batched call carries each sequence's own steering.
     */
    public void applyTo(Hooks hooks, int[] rows, int[] promptEnd) {
        if (terms.isEmpty() || rows.length == 0) return;
        if (promptEnd.length != rows.length) throw new IllegalArgumentException("one prompt end per row");
        int maxRow = 0;
        for (int r : rows) maxRow = Math.max(maxRow, r);
        int[] byRow = new int[maxRow + 1];
        for (int i = 0; i < rows.length; i++) byRow[rows[i]] = promptEnd[i];
        for (Term t : terms) {
            t.vector().addTo(hooks, t.scale(), t.vector().metadata().positions().positions(byRow).onRows(rows));
        }
    }

    @Override
    public String toString() {
        if (terms.isEmpty()) return "none";
        StringBuilder sb = new StringBuilder();
        for (Term t : terms) sb.append(sb.isEmpty() ? "" : ", ").append(t.vector().name()).append(':').append(t.scale());
        return sb.toString();
    }
}
