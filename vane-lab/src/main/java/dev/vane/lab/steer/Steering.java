package dev.vane.lab.steer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.run.RunDirectory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;

/**
 * Several steering vectors applied together, each with its own scale: what a {@code --steer FILE:SCALE}
 * list or a server request's {@code steering} field becomes. Immutable.
 *
 * <pre>{@code
 * Steering s = Steering.none().with(antidote, 2f).with(caa, -1f);
 * Hooks hooks = s.hooks(prompts.size(), promptEnds);     // every batch row steered the same way
 * s.applyTo(hooks, new int[]{3}, new int[]{41});          // or: only batch row 3 (its prompt ends at token 41)
 * }</pre>
 *
 * <p>A term may be gated ({@link Gate}): a probe reads each row's activation at the prompt's last token in the same
 * forward pass, and the term steers that row only as the gate decides. A gated term acts on what is computed after
 * its probe has read the row: in the prompt's call, at hook points after the probe's (and at the probe's own point,
 * after the reading), at the positions its rule selects; in every later call (the generated tokens), everywhere its
 * rule says. The probe reads the value arriving at its point, before any steering registered there. So a gated term
 * whose components all act at or after its probe's point steers exactly as the constant term when the gate fires;
 * components before the probe's point leave the prompt's positions there unsteered.
 *
 * <pre>{@code
 * Steering gated = Steering.none().with(antidote, 8f, Gate.above(harm, 0.5));
 * GateReadings[] readings = gated.newReadings(rows);
 * Hooks hooks = gated.hooks(rows, promptEnd, false, readings);
 * ... generate ...
 * gated.decisions(readings[0]);        // what row 0's probe said and what it got
 * }</pre>
 */
public final class Steering {
    /** One vector, its scale, and the gate that decides it per row (null: always, at full scale). */
    public record Term(SteeringVector vector, float scale, Gate gate) {
        public Term(SteeringVector vector, float scale) {
            this(vector, scale, null);
        }

        @Override
        public String toString() {
            return vector.name() + ':' + scale + (gate == null ? "" : " when " + gate);
        }
    }

    /**
     * What one row's gate decided for one gated term.
     *
     * @param vector       the vector's name
     * @param gate         the gate ({@code harm>0.5} or {@code harm~})
     * @param probability  the probe's probability at the prompt's last token (NaN if it was never read)
     * @param fired        whether the row was steered by this term at all
     * @param appliedScale the scale the row got: the term's scale times the gate's factor
     */
    public record Decision(String vector, String gate, double probability, boolean fired, double appliedScale) {
        /** {@code {"vector", "gate", "probe", "probability", "fired", "scale"}}, as run files and the server write it. */
        public ObjectNode json() {
            ObjectNode o = RunDirectory.object().put("vector", vector).put("gate", gate);
            if (Double.isNaN(probability)) o.putNull("probability");
            else o.put("probability", Math.round(probability * 1e6) / 1e6);
            return o.put("fired", fired).put("scale", appliedScale);
        }
    }

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
        return with(vector, scale, null);
    }

    /** This steering plus {@code vector} at {@code scale}, gated by {@code gate} (null: not gated). */
    public Steering with(SteeringVector vector, float scale, Gate gate) {
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("steering scale must be finite");
        List<Term> t = new ArrayList<>(terms);
        t.add(new Term(vector, scale, gate));
        return new Steering(t);
    }

    /** True when some term is gated. */
    public boolean isGated() {
        return terms.stream().anyMatch(t -> t.gate() != null);
    }

    /** The distinct probes of the gated terms, in order of first use: the order of {@link GateReadings}. */
    public List<ProbeFile> probes() {
        List<ProbeFile> out = new ArrayList<>();
        for (Term t : terms) {
            if (t.gate() != null && out.stream().noneMatch(p -> p == t.gate().probe())) out.add(t.gate().probe());
        }
        return out;
    }

    /** Fresh readings, one per sequence, for a batch of {@code rows}. */
    public GateReadings[] newReadings(int rows) {
        GateReadings[] out = new GateReadings[rows];
        for (int i = 0; i < rows; i++) out[i] = newReadings();
        return out;
    }

    /** Fresh readings for one sequence. */
    public GateReadings newReadings() {
        return new GateReadings(probes().size());
    }

    /** What each gated term's gate decided for the sequence that read {@code readings} (empty when none is gated). */
    public List<Decision> decisions(GateReadings readings) {
        List<ProbeFile> probes = probes();
        List<Decision> out = new ArrayList<>();
        for (Term t : terms) {
            if (t.gate() == null) continue;
            double p = readings.probability(indexOf(probes, t.gate().probe()));
            double factor = t.gate().factor(p);
            out.add(new Decision(t.vector().name(), t.gate().toString(), p, factor > 0, t.scale() * factor));
        }
        return out;
    }

    /** The terms with every scale multiplied by {@code factor}, gates kept (one point of a scale sweep). */
    public Steering scaled(float factor) {
        List<Term> out = new ArrayList<>();
        for (Term t : terms) out.add(new Term(t.vector(), t.scale() * factor, t.gate()));
        return new Steering(out);
    }

    /** The same terms with every term gated by {@code gate} (terms already gated keep theirs). */
    public Steering gatedBy(Gate gate) {
        List<Term> out = new ArrayList<>();
        for (Term t : terms) out.add(new Term(t.vector(), t.scale(), t.gate() != null ? t.gate() : gate));
        return new Steering(out);
    }

    private static int indexOf(List<ProbeFile> probes, ProbeFile p) {
        for (int i = 0; i < probes.size(); i++) if (probes.get(i) == p) return i;
        throw new IllegalStateException("probe " + p.name() + " is not one of this steering's");
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
        for (Term t : terms) {
            t.vector().validateFor(config);
            if (t.gate() != null) t.gate().probe().validateFor(config);
        }
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
        return hooks(rows, promptEnd, teacherForced, newReadings(rows));
    }

    /**
     * As {@link #hooks(int, int[], boolean)}, gated terms recording what their probes read for row r in
     * {@code readings[r]} (from {@link #newReadings(int)}).
     *
     * @throws InvalidInputException for gated terms in a teacher-forced pass: there the answer's positions at points
     *                               before the probe would go unsteered, unlike in generation
     */
    public Hooks hooks(int rows, int[] promptEnd, boolean teacherForced, GateReadings[] readings) {
        Hooks hooks = new Hooks();
        if (promptEnd.length != rows) throw new IllegalArgumentException("one prompt end per row");
        if (readings.length != rows) throw new IllegalArgumentException("one gate reading per row");
        if (isGated()) {
            if (teacherForced) {
                throw new InvalidInputException("gated steering (a --when condition) works while generating, not in a "
                        + "pass that scores a given answer; drop the condition");
            }
            int[] all = new int[rows];
            for (int r = 0; r < rows; r++) all[r] = r;
            registerGated(hooks, all, promptEnd, readings);
        }
        for (Term t : terms) {
            if (t.gate() != null) continue;
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
        applyTo(hooks, rows, promptEnd, newReadings(rows.length));
    }

    /**
     * As {@link #applyTo(Hooks, int[], int[])}, gated terms recording what their probes read for {@code rows[i]} in
     * {@code readings[i]}: the readings of each row's own sequence, kept across calls.
     */
    public void applyTo(Hooks hooks, int[] rows, int[] promptEnd, GateReadings[] readings) {
        if (terms.isEmpty() || rows.length == 0) return;
        if (promptEnd.length != rows.length) throw new IllegalArgumentException("one prompt end per row");
        if (readings.length != rows.length) throw new IllegalArgumentException("one gate reading per row");
        int maxRow = 0;
        for (int r : rows) maxRow = Math.max(maxRow, r);
        int[] byRow = new int[maxRow + 1];
        GateReadings[] readingsByRow = new GateReadings[maxRow + 1];
        for (int i = 0; i < rows.length; i++) {
            byRow[rows[i]] = promptEnd[i];
            readingsByRow[rows[i]] = readings[i];
        }
        if (isGated()) registerGated(hooks, rows, byRow, readingsByRow);
        for (Term t : terms) {
            if (t.gate() != null) continue;
            t.vector().addTo(hooks, t.scale(), t.vector().metadata().positions().positions(byRow).onRows(rows));
        }
    }

    /**
     * The gated terms on {@code rows}: first a reading hook per probe (so that it reads its point before any steering
     * registered there), then each gated term with a per-row scale that is 0 until the row's probe has read. Arrays
     * are indexed by batch row.
     */
    private void registerGated(Hooks hooks, int[] rows, int[] promptEndByRow, GateReadings[] readingsByRow) {
        List<ProbeFile> probes = probes();
        Positions promptEnd = ((Positions) (row, i, n) -> row < promptEndByRow.length && i == promptEndByRow[row]).onRows(rows);
        for (int g = 0; g < probes.size(); g++) {
            ProbeFile probe = probes.get(g);
            int index = g;
            int[] heads = probe.head() >= 0 ? new int[]{probe.head()} : null;
            hooks.custom(probe.point().name(), value -> {
                if ((probe.head() >= 0 ? 1 : value.heads()) * value.width() != probe.width()) {
                    throw new InvalidInputException("probe " + probe.name() + " reads " + probe.width() + " values at "
                            + probe.point().name() + ", the activation has " + value.heads() * value.width());
                }
                double[] dot = new double[value.rows()];
                boolean[] seen = new boolean[value.rows()];
                value.forEach(heads, promptEnd, (row, token, head, data, off, len) -> {
                    dot[row] += probe.dot(data, off, probe.head() >= 0 ? 0 : head * len, len);
                    seen[row] = true;
                });
                for (int r = 0; r < dot.length; r++) {
                    if (seen[r] && r < readingsByRow.length && readingsByRow[r] != null) {
                        readingsByRow[r].record(index, dot[r] + probe.bias());
                    }
                }
            });
        }
        for (Term t : terms) {
            if (t.gate() == null) continue;
            int index = indexOf(probes, t.gate().probe());
            IntToDoubleFunction scaleOfRow = row -> {
                GateReadings r = row < readingsByRow.length ? readingsByRow[row] : null;
                return r == null ? 0 : t.scale() * t.gate().factor(r.probability(index));
            };
            t.vector().addTo(hooks, scaleOfRow, t.vector().metadata().positions().positions(promptEndByRow).onRows(rows));
        }
    }

    @Override
    public String toString() {
        if (terms.isEmpty()) return "none";
        StringBuilder sb = new StringBuilder();
        for (Term t : terms) sb.append(sb.isEmpty() ? "" : ", ").append(t);
        return sb.toString();
    }
}
