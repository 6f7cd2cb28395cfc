package dev.vane.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The examples of the README and of every command's help that use {@code --spark}, which {@link ExamplesTest} only
 * parses (Spark is not on vane-cli's class path), run here on their local master with ExamplesTest's smaller
 * budgets; repository files are read from the checkout, everything written goes to a temporary folder.
 */
class SparkExamplesTest {
    private static final Path HOME = Path.of(System.getProperty("vane.home"));

    @TempDir
    Path work;

    @Test
    void everyExampleWithSparkRuns() throws Exception {
        List<ExamplesTest.Example> examples = new ArrayList<>(new ExamplesTest().readme());
        examples.addAll(ExamplesTest.help());
        Set<List<String>> spark = new LinkedHashSet<>();
        for (ExamplesTest.Example e : examples) if (e.args().contains("--spark")) spark.add(e.args());
        assertThat(spark).as("examples with --spark").hasSizeGreaterThanOrEqualTo(3);
        int runs = 0;
        for (List<String> args : spark) {
            List<String> local = new ArrayList<>(args.stream().map(this::local).toList());
            String command = ExamplesTest.commandPath(local);
            for (Map.Entry<String, String> budget : ExamplesTest.BUDGETS.getOrDefault(command, Map.of()).entrySet()) {
                int at = local.indexOf(budget.getKey());
                if (at >= 0) local.set(at + 1, budget.getValue());
                else local.addAll(List.of(budget.getKey(), budget.getValue()));
            }
            if (!local.contains("--out")) local.addAll(List.of("--out", work.resolve("run-" + ++runs).toString()));
            assertThat(local.get(local.indexOf("--spark") + 1)).as(args.toString()).startsWith("local[");
            CliRun r = CliRun.of(local.toArray(String[]::new));
            assertThat(r.exitCode()).as("vane " + String.join(" ", args) + "\nran: " + local + "\n" + r.err()).isZero();
            assertThat(r.out()).contains(work.toString());           // it names its run directory
        }
    }

    /** Repository data read from the checkout; anything else relative (vectors/, runs/) in the work folder. */
    private String local(String arg) {
        if (arg.startsWith("models/") || arg.startsWith("data/")) return HOME.resolve(arg).toString();
        if (arg.startsWith("vectors/") || arg.startsWith("runs/")) return work.resolve(arg).toString();
        return arg;
    }
}
