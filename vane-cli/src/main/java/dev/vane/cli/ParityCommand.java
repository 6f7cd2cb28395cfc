package dev.vane.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.parity.CaseResult;
import dev.vane.lab.parity.Parity;
import dev.vane.lab.parity.ParityReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vane parity}: compare Vane with a Hugging Face transformers reference run of the same model. */
@Command(name = "parity",
        description = {
                "Check Vane against what Hugging Face transformers computed for the same checkpoint.",
                "Runs every case of a reference file (activations at every hook, steering, ablation, patching, "
                        + "a left-padded batch, greedy generation, per-token KL when DIR-perturbed exists) and "
                        + "prints one row per case. A tensor passes when max |diff| <= 1e-3 x max(1, max |reference|).",
                "The reference format is documented in docs/reference-format.md."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane parity --model fixtures/hf/gemma2",
                "  vane parity --model ~/models/Llama-3.2-1B --reference llama32-ref.json --json",
                "",
                "Exit codes: 0 every checked case passed, 1 a case failed, 2 bad input."},
        mixinStandardHelpOptions = true)
final class ParityCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face checkpoint directory (config.json + safetensors).")
    Path model;

    @Option(names = "--reference", paramLabel = "FILE",
            description = "Reference JSON (default: DIR/reference.json); its tensors are read from the "
                    + ".safetensors file of the same name beside it.")
    Path reference;

    @Option(names = "--json", description = "Print the result as JSON: {\"pass\", \"cases\": [{\"name\", "
            + "\"max_abs_diff\", \"tolerance\", \"status\", \"detail\"}]}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ParityReport report;
        try (Progress progress = Progress.start("parity", -1, spec.commandLine().getErr())) {
            report = Parity.run(model, reference, name -> progress.step(name));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(report));
        } else {
            printTable(report, out);
        }
        out.flush();
        return report.pass() ? 0 : Vane.CHECK_FAILED;
    }

    private static void printTable(ParityReport report, PrintWriter out) {
        out.printf("Parity of %s against %s%n", report.model(), report.reference());
        out.printf("%-16s %12s %12s  %-7s  %s%n", "case", "max |diff|", "tolerance", "status", "detail");
        for (CaseResult c : report.cases()) {
            out.printf("%-16s %12s %12s  %-7s  %s%n", c.name(), number(c.maxAbsDiff()), number(c.tolerance()),
                    c.status().label(), c.detail());
        }
        long failed = report.cases().stream().filter(c -> c.status() == CaseResult.Status.FAIL).count();
        long passed = report.cases().stream().filter(c -> c.status() == CaseResult.Status.PASS).count();
        long skipped = report.cases().size() - failed - passed;
        out.printf("%s: %d passed, %d failed, %d skipped%n", report.pass() ? "PASS" : "FAIL", passed, failed, skipped);
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.3e", v);
    }

    static String toJson(ParityReport report) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("pass", report.pass());
        root.put("model", report.model().toString());
        root.put("reference", report.reference().toString());
        ArrayNode cases = root.putArray("cases");
        for (CaseResult c : report.cases()) {
            ObjectNode n = cases.addObject();
            n.put("name", c.name());
            if (Double.isNaN(c.maxAbsDiff())) n.putNull("max_abs_diff"); else n.put("max_abs_diff", c.maxAbsDiff());
            if (Double.isNaN(c.tolerance())) n.putNull("tolerance"); else n.put("tolerance", c.tolerance());
            n.put("status", c.status().label());
            n.put("detail", c.detail());
        }
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
