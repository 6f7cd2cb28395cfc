package dev.vane.lab.parity;

/**
 * The outcome of one parity case.
 *
 * @param name       the case, e.g. {@code seq0} or {@code steer_head}
 * @param maxAbsDiff the largest |vane - reference| over the case's worst tensor (NaN when skipped)
 * @param tolerance  that tensor's tolerance, 1e-3 x max(1, max |reference|) (NaN when skipped)
 * @param status     pass, fail or skipped
 * @param detail     what was compared (tensor count and worst tensor) or why the case was skipped
 */
public record CaseResult(String name, double maxAbsDiff, double tolerance, Status status, String detail) {

    /** Whether a case passed, failed or could not run. */
    public enum Status {
        PASS, FAIL, SKIPPED;

        /** Lower-case name, as printed and in JSON. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static CaseResult skipped(String name, String reason) {
        return new CaseResult(name, Double.NaN, Double.NaN, Status.SKIPPED, reason);
    }
}
