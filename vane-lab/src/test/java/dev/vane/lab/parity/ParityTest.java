package dev.vane.lab.parity;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ParityTest {
    static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void everyCheckedCasePasses(String family) {
        ParityReport report = Parity.run(fixture(family), null);
        report.cases().forEach(c -> System.out.printf("%s %-14s %10.3g %10.3g %s %s%n", family, c.name(),
                c.maxAbsDiff(), c.tolerance(), c.status().label(), c.detail()));
        assertThat(report.cases()).filteredOn(c -> c.status() == CaseResult.Status.FAIL).isEmpty();
    }
}
