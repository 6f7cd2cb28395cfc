package dev.vane.lab.parity;

import dev.vane.core.tensor.Blas;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ParityTest {
    static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    /**
     * Every family, with OpenBLAS for every product (it must load on the linux-x86_64 machines CI runs on) and
     * with the pure-Java kernels alone.
     */
    @ParameterizedTest(name = "{0} with {1} kernels")
    @CsvSource({"llama2, native", "llama3, native", "qwen2, native", "mistral, native", "gemma, native",
            "gemma2, native", "qwen3, native", "llama2, java", "llama3, java", "qwen2, java", "mistral, java",
            "gemma, java", "gemma2, java", "qwen3, java"})
    void everyCheckedCasePasses(String family, String kernels) {
        Blas.choose(kernels.equals("native") ? Blas.Use.ALWAYS : Blas.Use.NEVER);
        try {
            assertThat(Blas.enabled()).as(Blas.status()).isEqualTo(kernels.equals("native"));
            ParityReport report = Parity.run(fixture(family), null);
            report.cases().forEach(c -> System.out.printf("%s %s %-14s %10.3g %10.3g %s %s%n", family, kernels,
                    c.name(), c.maxAbsDiff(), c.tolerance(), c.status().label(), c.detail()));
            assertThat(report.cases()).filteredOn(c -> c.status() == CaseResult.Status.FAIL).isEmpty();
        } finally {
            Blas.choose(null);
        }
    }
}
