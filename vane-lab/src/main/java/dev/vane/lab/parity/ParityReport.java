package dev.vane.lab.parity;

import java.util.List;

/**
 * Every case of one parity run.
 *
 * <pre>{@code
 * ParityReport report = Parity.run(Path.of("fixtures/hf/llama2"), null);
 * if (!report.pass()) report.cases().stream().filter(c -> c.status() == CaseResult.Status.FAIL).forEach(System.out::println);
 * }</pre>
 *
 * @param model     the checkpoint directory
 * @param reference the reference.json used
 * @param cases     one result per case, in a fixed order
 */
public record ParityReport(java.nio.file.Path model, java.nio.file.Path reference, List<CaseResult> cases) {

    /** True when no checked case failed (skipped cases do not count). */
    public boolean pass() {
        return cases.stream().noneMatch(c -> c.status() == CaseResult.Status.FAIL);
    }
}
