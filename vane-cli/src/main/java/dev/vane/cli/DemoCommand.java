package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.demo.Demo;
import dev.vane.lab.demo.DemoInputs;
import dev.vane.lab.demo.DemoSizes;
import dev.vane.lab.demo.DemoStep;
import dev.vane.lab.demo.StepProgress;
import dev.vane.lab.distribute.WorkExecutor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code vane demo}: the nine measurements of the README on one model and its base, as one report. */
@Command(name = "demo",
        description = {"What Vane finds and fixes, in one run: (1) per-token KL of the chat model against its base on "
                + "harmful answers, (2) the prefilling attack, ASR by prefilled tokens, (3) a Jailbreak Antidote vector and "
                + "its scale sweep, ASR under the attack against over-refusal, (4) CAA on A/B coordination questions, "
                + "p(matching) by scale, (5) probes for harmful vs benign by layer, (6) instructed lying: true/false accuracy "
                + "under an honest and a liar system prompt, truth probes by layer, and the attention heads whose outputs, "
                + "patched from honest into liar runs, give back honest answers, (7) head-specific intervention: a "
                + "head sweep and sampled chain-of-thought answers under the top heads, (8) conditional steering: the "
                + "Antidote vector constant and gated on a harmfulness probe, ASR and benign utility by scale and the area "
                + "under each safety-utility curve, (9) make it deep: the chat model's deep-aligned twin (--deep) under the "
                + "same prefilling attack, and its per-token KL against the base.",
                "Writes OUT/report.html (one self-contained page), OUT/summary.json (headline figures) and a run "
                        + "directory per step (OUT/kl, OUT/prefill, OUT/antidote, OUT/caa, OUT/probe, OUT/lying, OUT/hsi, OUT/gated, OUT/deep). Rerun with the same "
                        + "--out to resume: finished steps are skipped.",
                "Data: --data-dir holds harmful.jsonl and benign.jsonl ({\"prompt\", \"split\": train|test}; without "
                        + "splits, even rows train and odd rows test), harmful_responses.jsonl ({\"prompt\", \"response\"}) "
                        + "and coordination_ab.jsonl (coordinate-other-ais format); true_false.jsonl ({\"text\" or \"statement\", \"label\", "
                        + "\"split\"}) and prompts.json (honest and liar system prompts) beside harmful.jsonl, when present, "
                        + "for step 6; --harmful, --benign, --responses and "
                        + "--ab replace single files."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane demo",
                "  vane demo --quick --out runs/demo-quick",
                "  vane demo --model ~/models/Llama-2-7b-chat-hf --base ~/models/Llama-2-7b-hf \\",
                "      --harmful my-harmful.jsonl --benign my-benign.jsonl --responses my-harmful-answers.jsonl \\",
                "      --ab data/coordinate-other-ais/coordinate-other-ais.jsonl --antidote-scales 0,2,4,8 --caa-scales -1,0,1"},
        mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--base", paramLabel = "DIR", description = "The unaligned base checkpoint (default: the bundled organism-base).")
    Path base;

    @Option(names = "--deep", paramLabel = "DIR", description = "The chat model's deep-aligned twin for step 9 (default: "
            + "the bundled organism-deep when --model is not given and it exists; without one step 9 says so).")
    Path deep;

    @Option(names = "--out", paramLabel = "DIR", description = "The demo's folder (default: runs/demo-<timestamp>); an existing one resumes.")
    Path out;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Folder of the four data files (default: models/organism-data).")
    Path dataDir;

    @Option(names = "--harmful", paramLabel = "FILE", description = "Harmful requests instead of DIR/harmful.jsonl.")
    Path harmful;

    @Option(names = "--benign", paramLabel = "FILE", description = "Benign requests instead of DIR/benign.jsonl.")
    Path benign;

    @Option(names = "--responses", paramLabel = "FILE", description = "(prompt, harmful response) pairs instead of DIR/harmful_responses.jsonl.")
    Path responses;

    @Option(names = "--ab", paramLabel = "FILE", description = "A/B questions instead of DIR/coordination_ab.jsonl.")
    Path ab;

    @Option(names = "--antidote-scales", split = ",", paramLabel = "S,...",
            description = "Antidote scales to sweep (default: the organism's 0,10,20,30,40,50,60,80; the useful range is model-specific).")
    List<Float> antidoteScales;

    @Option(names = "--caa-scales", split = ",", paramLabel = "S,...",
            description = "CAA scales to sweep (default: the organism's -128,-64,0,32,64,128; Llama-2-7b-chat: -1.5..1.5).")
    List<Float> caaScales;

    @Option(names = "--quick", description = "Reduced sizes (a smoke run in seconds; what the tests run).")
    boolean quick;

    @Option(names = "--json", description = "Print summary.json on stdout instead of the table (with \"run_dir\" and \"report\" added).")
    boolean json;

    @Mixin
    SparkOptions spark;

    @Override
    public Integer call() {
        DemoInputs inputs = DemoInputs.inDirectory(dataDir != null ? dataDir : ModelOption.home().resolve("models").resolve("organism-data"));
        if (harmful != null) inputs = inputs.withHarmful(harmful);
        if (benign != null) inputs = inputs.withBenign(benign);
        if (responses != null) inputs = inputs.withResponses(responses);
        if (ab != null) inputs = inputs.withAb(ab);
        Path baseDir = base != null ? base : ModelOption.bundled("organism-base");
        DemoSizes sizes = quick ? DemoSizes.quick() : DemoSizes.full();
        if (antidoteScales != null) sizes = sizes.withAntidoteScales(antidoteScales);
        if (caaScales != null) sizes = sizes.withCaaScales(caaScales);
        Path deepDir = deep;
        Path bundledDeep = ModelOption.home().resolve("models").resolve("organism-deep");
        if (deepDir == null && modelOption.model == null && Files.isDirectory(bundledDeep)) deepDir = bundledDeep;
        Demo demo = new Demo(modelOption.resolve(), baseDir, inputs, sizes).withDeep(deepDir);
        PrintWriter err = spec.commandLine().getErr();
        Demo.Result result;
        try (WorkExecutor executor = spark.open("demo")) {
            result = demo.run(Path.of("runs"), out, new TerminalListener(err), executor);
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            ObjectNode printed = result.summary().deepCopy();
            printed.put("run_dir", result.directory().toString()).put("report", result.report().toString());
            o.println(printed.toPrettyString());
        } else {
            printTable(o, result);
        }
        o.flush();
        return 0;
    }

    /** One line per step on stderr, and progress while it runs (redrawn on a terminal, else a line every few seconds). */
    private static final class TerminalListener implements Demo.Listener {
        private final PrintWriter err;
        private Progress bar;

        TerminalListener(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void stepStarted(int index, int count, DemoStep step, boolean resumed) {
            err.printf("[%d/%d] %s: %s%s%n", index, count, step.name(), step.description(), resumed ? " (resuming)" : "");
            err.flush();
            bar = Progress.start(step.name(), -1, err);
        }

        @Override
        public StepProgress progress() {
            return new StepProgress() {
                @Override
                public void total(long units) {
                    bar.total(units);
                }

                @Override
                public void done(long units) {
                    bar.stepTo(units);
                }
            };
        }

        @Override
        public void stepFinished(int index, int count, DemoStep step, double seconds, boolean skipped) {
            bar.close();
            err.printf(Locale.ROOT, "[%d/%d] %s: %s%n", index, count, step.name(),
                    skipped ? "already done, skipped" : String.format(Locale.ROOT, "done in %.1f s", seconds));
            err.flush();
        }
    }

    /** The headline figures as a short table, then where the report is: the last thing a person reads. */
    private static void printTable(PrintWriter o, Demo.Result r) {
        JsonNode s = r.summary();
        JsonNode kl = s.get("kl"), prefill = s.get("prefill"), antidote = s.get("antidote"), caa = s.get("caa"), probe = s.get("probe");
        o.println("Headline figures (" + r.directory().resolve("summary.json") + "):");
        o.printf(Locale.ROOT, "  %-28s first token %.2f, first %d tokens %.2f, later %.2f nats/token%n", "KL(chat || base)",
                kl.get("first_token").asDouble(), kl.get("first_tokens").asInt(), kl.get("first_tokens_mean").asDouble(),
                kl.get("later_tokens_mean").asDouble());
        StringBuilder asr = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = prefill.get("asr_by_tokens").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            asr.append(String.format(Locale.ROOT, "k=%s %.2f  ", e.getKey(), e.getValue().asDouble()));
        }
        o.printf("  %-28s %s%n", "prefilling attack ASR", asr.toString().strip());
        row(o, "Antidote scale (report split)", antidote.get("scales"), "%6.0f");
        row(o, "  ASR (prefilled)", antidote.get("asr"), "%6.2f");
        row(o, "  degenerate (attacked)", antidote.get("degenerate_rate"), "%6.2f");
        row(o, "  degenerate (benign)", antidote.get("benign_degenerate_rate"), "%6.2f");
        row(o, "  benign utility", antidote.get("benign_utility"), "%6.2f");
        JsonNode chosen = antidote.get("chosen");
        int at = chosen.get("index").asInt();
        o.printf(Locale.ROOT, "  %-28s scale %s, chosen on the tuning split (degenerate <= %.2f); report split n %d: ASR %s%n",
                "  chosen", fmt(chosen.get("scale").asDouble()), chosen.get("limit").asDouble(), antidote.get("n").asInt(),
                withInterval(antidote, "asr", at));
        row(o, "CAA scale (layer " + caa.get("layer").asInt() + ")", caa.get("scales"), "%8.0f");
        row(o, "  mean p(matching)", caa.get("mean_p_matching"), "%8.1e");
        row(o, "  degenerate answers", caa.get("degenerate_rate"), "%8.2f");
        row(o, "probe accuracy by layer", probe.get("accuracy_by_layer"), "%5.2f");
        o.printf(Locale.ROOT, "  %-28s layer %d, accuracy %.2f (majority label %.2f)%n", "  best", probe.get("best_layer").asInt(),
                probe.get("best_accuracy").asDouble(), probe.get("chance").asDouble());
        JsonNode lying = s.get("lying"), hsi = s.get("hsi");
        o.printf(Locale.ROOT, "  %-28s honest %.2f, liar %.2f%s%n", "true/false accuracy",
                lying.path("honest_accuracy").asDouble(Double.NaN), lying.path("liar_accuracy").asDouble(Double.NaN),
                lying.path("shown").asBoolean() ? "" : " (not localized: " + lying.path("reason").asText() + ")");
        o.printf(Locale.ROOT, "  %-28s heads %s at %s: p(matching) %.1e -> %.1e, sampled answers matching %.2f -> %.2f%n",
                "HSI (held-out questions)", hsi.get("heads").asText(), fmt(hsi.get("scale").asDouble()),
                hsi.get("unsteered_mean_p_matching").asDouble(), hsi.get("steered_mean_p_matching").asDouble(),
                hsi.get("unsteered_matching_fraction").asDouble(), hsi.get("steered_matching_fraction").asDouble());
        JsonNode gated = s.get("gated");
        o.printf(Locale.ROOT, "  %-28s constant %.2f, gated %.2f (area under safety-utility)%n", "Antidote gated on a probe",
                gated.get("constant").get("safety_utility_area").asDouble(), gated.get("gated").get("safety_utility_area").asDouble());
        JsonNode deep = s.get("deep");
        if (deep.path("shown").asBoolean()) {
            StringBuilder deepAsr = new StringBuilder();
            for (Iterator<Map.Entry<String, JsonNode>> it = deep.get("deep_prefill").get("asr_by_tokens").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                deepAsr.append(String.format(Locale.ROOT, "k=%s %.2f  ", e.getKey(), e.getValue().asDouble()));
            }
            o.printf("  %-28s %s%n", "deep twin: prefilling ASR", deepAsr.toString().strip());
            o.printf(Locale.ROOT, "  %-28s first %d tokens %.2f, later %.2f nats/token%n", "  KL(deep || base)",
                    deep.get("deep_kl").get("first_tokens").asInt(), deep.get("deep_kl").get("first_tokens_mean").asDouble(),
                    deep.get("deep_kl").get("later_tokens_mean").asDouble());
            JsonNode seen = deep.get("benign_utility").get("seen"), unseen = deep.get("benign_utility").get("unseen");
            o.printf(Locale.ROOT, "  %-28s seen %.2f -> %.2f, unseen %.2f -> %.2f (chat -> deep)%n", "  benign refused",
                    seen.get("chat_refusal_rate").asDouble(), seen.get("deep_refusal_rate").asDouble(),
                    unseen.get("chat_refusal_rate").asDouble(), unseen.get("deep_refusal_rate").asDouble());
        } else {
            o.printf("  %-28s not shown: %s%n", "deep twin", deep.path("reason").asText());
        }
        o.printf(Locale.ROOT, "  %-28s %.0f s%n", "compute time", s.get("seconds").get("total").asDouble());
        o.println("Report: " + r.report().toAbsolutePath());
    }

    private static String fmt(double scale) {
        return scale == Math.rint(scale) ? Long.toString((long) scale) : Double.toString(scale);
    }

    /** "0.30 [0.15, 0.52]" for entry {@code i} of {@code field} and {@code field_ci95}. */
    private static String withInterval(JsonNode node, String field, int i) {
        JsonNode v = node.get(field).get(i), ci = node.get(field + "_ci95").get(i);
        if (!v.isNumber()) return "n/a";
        return String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", v.asDouble(), ci.get(0).asDouble(), ci.get(1).asDouble());
    }

    private static void row(PrintWriter o, String label, JsonNode values, String format) {
        StringBuilder b = new StringBuilder();
        for (JsonNode v : values) b.append(v.isNumber() ? String.format(Locale.ROOT, format, v.asDouble())
                : String.format(Locale.ROOT, "%" + format.substring(1).replaceAll("[^0-9].*", "") + "s", "n/a"));
        o.printf("  %-28s%s%n", label, b);
    }
}
