package dev.vane.lab.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark runs end to end on the tiny shape and reports every figure, the matrix-product rates included. */
class BenchmarkTest {
    @Test
    void tinyShapeReportsEveryFigure(@TempDir Path cache) throws Exception {
        List<String> log = new ArrayList<>();
        Path dir = SyntheticCheckpoint.ensure(BenchShape.byName("tiny"), cache, log::add);
        BenchResult r = new Benchmark(dir, "tiny", 1, 1, log::add).run();
        assertThat(r.prefillTokS()).isPositive();
        assertThat(r.extractTokS()).isPositive();
        assertThat(r.decodeTokS128()).isPositive();
        assertThat(r.weightBytesPerToken()).isPositive();
        GemmRate g = r.gemm();
        assertThat(g.product()).matches("\\[\\d+ x \\d+\\] BF16 x 512 tokens");
        assertThat(g.engineGflops()).isPositive();
        assertThat(g.javaGflops()).isPositive();
        if (g.kernels().startsWith("OpenBLAS")) assertThat(g.libraryGflops()).isPositive();
        else assertThat(g.libraryGflops()).isNaN();
        assertThat(log).anyMatch(l -> l.startsWith("matrix-product rate ("));
    }
}
