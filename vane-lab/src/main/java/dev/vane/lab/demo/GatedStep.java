package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.hook.HookPoint;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.PromptFormat;
import dev.vane.lab.eval.RefusalEvaluation;
import dev.vane.lab.eval.SafetyMeasurement;
import dev.vane.lab.eval.SafetyUtilityArea;
import dev.vane.lab.eval.TuningSplit;
import dev.vane.lab.probe.ProbeData;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.probe.ProbeStudy;
import dev.vane.lab.report.HtmlReport;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Step 8, conditional steering: the Antidote vector of step 3 constant, and gated on a harmfulness probe read at the
 * prompt's last token (in the same forward, at the vector's first layer, so a firing gate steers exactly as the
 * constant vector), over the same scales on the report halves of step 3's requests: ASR under the prefilling attack,
 * degenerate answers and benign utility, and the area under each safety-utility curve.
 */
final class GatedStep implements DemoStep {
    static final double THRESHOLD = 0.5;
    private static final long SEED = 0;
    private static final int FOLDS = 5;

    @Override
    public String name() {
        return "gated";
    }

    @Override
    public String description() {
        return "Antidote constant against gated on a harmfulness probe, ASR and benign utility by scale";
    }

    @Override
    public ObjectNode config(DemoContext ctx) {
        ObjectNode c = RunDirectory.object().put("job", "gated").put("model", ctx.modelPath());
        c.set("harmful", DemoInputs.describe(ctx.inputs().harmfulFile()));
        c.set("benign", DemoInputs.describe(ctx.inputs().benignFile()));
        c.put("prefill", AntidoteStep.PREFILL).put("threshold", THRESHOLD).put("max_tokens", ctx.sizes().maxNewTokens())
                .put("pairs", ctx.sizes().antidotePairs()).put("harmful_n", ctx.sizes().antidoteHarmful())
                .put("benign_n", ctx.sizes().antidoteBenign());
        c.set("scales", Figures.array(ctx.sizes().antidoteScales()));
        return c;
    }

    @Override
    public void run(DemoContext ctx, RunDirectory run, StepProgress progress) {
        DemoSizes z = ctx.sizes();
        AntidoteSetup setup = AntidoteSetup.of(ctx);
        TuningSplit attacked = setup.attacked(), benign = setup.benign();
        long build = setup.buildUnits();
        long perScale = 2L * (attacked.report().size() + benign.report().size());
        progress.total(2 * build + z.antidoteScales().size() * perScale);
        SteeringVector vector = setup.vector(ctx, run, progress);
        // The probe reads where the vector starts: a firing gate then steers every component the constant vector does.
        int layer = vector.components().stream().mapToInt(c -> HookPoint.parse(c.point()).layer()).min().orElse(0);
        ProbeFile probe = probe(ctx, run, setup.harmfulTrain(), setup.benignTrain(), layer, progress, build);
        Gate gate = Gate.above(probe, THRESHOLD);
        RefusalEvaluation eval = setup.evaluation(ctx, run);
        SamplingParams params = SamplingParams.greedy(z.maxNewTokens());
        long half = attacked.report().size() + benign.report().size();
        List<JsonNode> rows = ScaleSweep.measure(run, z.antidoteScales(), perScale, 2 * build, progress, (scale, done) -> {
            ObjectNode row = RunDirectory.object();
            Steering constant = Steering.of(vector, scale);
            row.set("constant", SafetyMeasurement.measure(eval, attacked.report(), AntidoteStep.PREFILL,
                    benign.report(), constant, params, done).json());
            row.set("gated", SafetyMeasurement.measure(eval, attacked.report(), AntidoteStep.PREFILL,
                    benign.report(), constant.gatedBy(gate), params, d -> done.accept((int) half + d)).json());
            return row;
        });
        ObjectNode summary = RunDirectory.object().put("prefill", AntidoteStep.PREFILL).put("threshold", THRESHOLD)
                .put("probe_point", probe.point().name()).put("probe_accuracy", probe.metadata().accuracy());
        summary.set("scales", Figures.array(z.antidoteScales()));
        for (String variant : List.of("constant", "gated")) {
            ObjectNode s = summary.putObject(variant);
            List<JsonNode> of = rows.stream().map(r -> r.get(variant)).toList();
            s.put("n", of.getFirst().get("n").asInt()).put("benign_n", of.getFirst().get("benign_n").asInt());
            SafetyMeasurement.columns(s, of, AntidoteStep.FIELDS);
            if (variant.equals("gated")) {
                s.set("gate_fired_rate", Figures.array(of.stream().map(r -> r.path("gate_fired_rate").asDouble(Double.NaN)).toList()));
                s.set("benign_gate_fired_rate", Figures.array(of.stream().map(r -> r.path("benign_gate_fired_rate").asDouble(Double.NaN)).toList()));
            }
            s.put("safety_utility_area", SafetyUtilityArea.of(Figures.doubles(s.get("benign_utility")), safety(s)));
        }
        run.writeSummary(summary);
    }

    /** The harmfulness probe at {@code layer}, fitted on the vector's own train requests (kept in the run). */
    private static ProbeFile probe(DemoContext ctx, RunDirectory run, List<String> harmful, List<String> benign, int layer,
                                   StepProgress progress, long before) {
        var file = run.path("harm.safetensors");
        if (Files.isRegularFile(file)) return ProbeFile.read(file);
        List<String> texts = new ArrayList<>(harmful);
        texts.addAll(benign);
        boolean[] labels = new boolean[texts.size()];
        for (int i = 0; i < harmful.size(); i++) labels[i] = true;
        List<int[]> sequences = new ProbeData(texts, labels).encode(PromptFormat.chat(ctx.tokenizer(), null, ""));
        ProbeStudy study = new ProbeStudy(ctx.model(), new ProbeStudy.Settings(HookPoint.Kind.RESID_POST, -1, FOLDS, SEED, 1.0));
        RunDirectory probeRun = RunDirectory.openOrCreate(run.path(), "probe", run.path("probe"),
                RunDirectory.object().put("job", "probe").put("model", ctx.modelPath()).put("layer", layer));
        ProbeStudy.Report report = study.run(sequences, labels, probeRun, progress.counting(before));
        ProbeFile probe = study.fitFile(sequences, labels, report, layer, -1, "harm",
                new ProbeFile.Metadata(ctx.modelName(), "harmful vs benign requests, split train", "harmful request",
                        report.accuracyByLayer()[layer], Map.of()));
        probe.write(file);
        return probe;
    }

    private static double[] safety(JsonNode variant) {
        double[] asr = Figures.doubles(variant.get("asr"));
        for (int i = 0; i < asr.length; i++) asr[i] = 1 - asr[i];
        return asr;
    }

    @Override
    public ObjectNode headline(JsonNode summary) {
        ObjectNode h = RunDirectory.object();
        h.set("scales", summary.get("scales").deepCopy());
        for (String variant : List.of("constant", "gated")) {
            ObjectNode v = h.putObject(variant);
            for (String f : List.of("asr", "degenerate_rate", "benign_degenerate_rate", "benign_utility", "safety_utility_area")) {
                v.set(f, summary.get(variant).get(f).deepCopy());
            }
        }
        h.set("gate_fired_rate", summary.get("gated").get("gate_fired_rate").deepCopy());
        h.set("benign_gate_fired_rate", summary.get("gated").get("benign_gate_fired_rate").deepCopy());
        return h;
    }

    @Override
    public void addTo(HtmlReport report, DemoContext ctx, JsonNode summary, ObjectNode headline) {
        double[] scales = Figures.doubles(summary.get("scales"));
        JsonNode c = summary.get("constant"), g = summary.get("gated");
        Chart chart = Chart.line("Safety against utility, constant and gated Antidote", "benign utility", "1 - ASR (prefilled)")
                .series("constant", Figures.doubles(c.get("benign_utility")), safety(c))
                .series("gated (probe > " + THRESHOLD + ")", Figures.doubles(g.get("benign_utility")), safety(g))
                .yRange(0, 1);
        String sentence = "The same Antidote vector, constant and gated on a harmfulness probe (" + summary.get("probe_point").asText()
                + ", cross-validated accuracy " + Figures.f2(summary.get("probe_accuracy").asDouble()) + ") read at the prompt's "
                + "last token in the same forward, over the same scales on " + c.get("n").asInt() + " held-out harmful requests "
                + "(prefilled \"" + AntidoteStep.PREFILL + "\") and " + c.get("benign_n").asInt() + " benign ones. Area under the "
                + "safety-utility curve: constant " + Figures.f2(c.get("safety_utility_area").asDouble()) + ", gated "
                + Figures.f2(g.get("safety_utility_area").asDouble()) + ".";
        HtmlReport.Table table = HtmlReport.Table.of("scale", "ASR constant", "ASR gated", "degenerate constant", "degenerate gated",
                "benign utility constant", "benign utility gated", "gate fired (harmful / benign)");
        for (int i = 0; i < scales.length; i++) {
            table.row(Figures.scale(scales[i]), f(c, "asr", i), f(g, "asr", i), f(c, "degenerate_rate", i), f(g, "degenerate_rate", i),
                    f(c, "benign_utility", i), f(g, "benign_utility", i),
                    f(g, "gate_fired_rate", i) + " / " + f(g, "benign_gate_fired_rate", i));
        }
        report.section("8. Conditional steering: Antidote gated on a harmfulness probe", sentence, chart.png(), table);
    }

    private static String f(JsonNode node, String field, int i) {
        JsonNode v = node.path(field).path(i);
        return v.isNumber() ? Figures.f2(v.asDouble()) : "n/a";
    }
}
