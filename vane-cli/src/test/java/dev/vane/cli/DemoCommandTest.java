package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code vane demo --quick} on the bundled organism, run once: the headline figures in summary.json must be the
 * figures of the steps' own run directories, the report must show them, and a rerun must resume.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DemoCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> STEPS = List.of("kl", "prefill", "antidote", "caa", "probe", "gated");
    /** Steps whose results are all in their summary (and sub-runs), with no results.jsonl of their own. */
    private static final List<String> SUMMARY_ONLY = List.of("lying", "hsi", "deep");
    /**
     * The demo's "deep twin" here is the chat model itself: step 9 must then measure exactly what steps 1 and 2 did,
     * through its own runs.
     */
    private static final String TWIN = Path.of(System.getProperty("vane.home", ".."), "models", "organism-chat").toString();

    /** {@code vane demo ARGS --deep TWIN}. */
    private static CliRun demo(String... args) {
        List<String> all = new ArrayList<>(List.of("demo"));
        all.addAll(List.of(args));
        all.addAll(List.of("--deep", TWIN));
        return CliRun.of(all.toArray(String[]::new));
    }

    @TempDir
    static Path tmp;
    Path out;
    CliRun first;
    JsonNode summary;

    @BeforeAll
    void runQuickDemo() throws Exception {
        out = tmp.resolve("demo");
        first = demo("--quick", "--out", out.toString());
        assertEquals(0, first.exitCode(), first.err());
        summary = read(out.resolve("summary.json"));
    }

    @Test
    @Order(1)
    void writesEveryStepAndEndsWithTheTableAndTheReportPath() throws Exception {
        for (String step : STEPS) {
            assertTrue(Files.isRegularFile(out.resolve(step).resolve("summary.json")), step);
            assertTrue(Files.isRegularFile(out.resolve(step).resolve("config.json")), step);
            assertTrue(first.err().contains("] " + step + ": done in"), first.err());
            assertEquals(step, summary.get("run_dirs").get(step).asText());
            assertTrue(summary.get("seconds").get(step).asDouble() > 0, step);
        }
        for (String step : SUMMARY_ONLY) {
            assertTrue(Files.isRegularFile(out.resolve(step).resolve("summary.json")), step);
            assertTrue(first.err().contains("] " + step + ": done in"), first.err());
        }
        // the organism cannot show instructed lying: the step measures the accuracies and says why it stops
        assertFalse(summary.get("lying").get("shown").asBoolean());
        assertTrue(summary.get("lying").get("honest_accuracy").asDouble() < 0.75);
        // gated and constant Antidote over the same scales, both areas in [0, 1]
        for (String variant : List.of("constant", "gated")) {
            double area = summary.get("gated").get(variant).get("safety_utility_area").asDouble();
            assertTrue(area >= 0 && area <= 1, variant + " " + area);
            assertEquals(summary.get("gated").get("scales").size(), summary.get("gated").get(variant).get("asr").size());
        }
        // step 9 on the chat model as its own twin: its attack and KL runs give steps 1 and 2's figures again
        JsonNode deep = summary.get("deep");
        assertTrue(deep.get("shown").asBoolean(), deep.toString());
        assertEquals(summary.get("prefill").get("asr_by_tokens"), deep.get("deep_prefill").get("asr_by_tokens"));
        assertEquals(summary.get("prefill").get("asr_by_tokens"), deep.get("chat_prefill").get("asr_by_tokens"));
        assertEquals(summary.get("kl"), deep.get("deep_kl"));
        assertEquals(summary.get("kl"), deep.get("chat_kl"));
        for (String split : List.of("seen", "unseen")) {
            JsonNode u = deep.get("benign_utility").get(split);
            assertEquals(u.get("chat").asDouble(), u.get("deep").asDouble(), 0.0, split);
            assertEquals(u.get("chat_refusal_rate").asDouble(), u.get("deep_refusal_rate").asDouble(), 0.0, split);
        }
        assertTrue(deep.get("benign_utility").get("seen").get("n").asInt() > 0);
        // every benign answer behind those rates is in the run: the refusal rate recounts from its verdicts
        int answerLines = 0;
        for (JsonNode line : lines(out.resolve("deep/utility/results.jsonl"))) {
            if (!line.path("id").asText().contains("/")) continue;                 // the degenerate rule's calibration
            answerLines++;
            String[] key = line.get("id").asText().split("/");
            JsonNode answers = line.get("responses");
            long refused = 0;
            for (JsonNode a : answers) if (a.get("verdict").asText().equals("refused")) refused++;
            JsonNode u = deep.get("benign_utility").get(key[0].equals("train") ? "seen" : "unseen");
            assertEquals((double) refused / answers.size(), u.get(key[1] + "_refusal_rate").asDouble(), 1e-12, line.get("id").asText());
        }
        assertEquals(4, answerLines, "seen and unseen, chat and deep");
        assertTrue(Files.isRegularFile(out.resolve("deep/prefill/results.jsonl")));
        assertTrue(Files.isRegularFile(out.resolve("deep/kl/results.jsonl")));
        assertTrue(first.out().contains("deep twin: prefilling ASR"), first.out());
        String[] lines = first.out().strip().split("\n");
        assertEquals("Report: " + out.resolve("report.html").toAbsolutePath(), lines[lines.length - 1]);
        assertTrue(first.out().contains("prefilling attack ASR"), first.out());
    }

    @Test
    @Order(2)
    void klFiguresAreThoseOfTheKlRun() throws Exception {
        JsonNode step = read(out.resolve("kl/summary.json")), h = summary.get("kl");
        double[] mean = doubles(step.get("mean_kl_by_position"));
        assertEquals(6, h.get("pairs").asInt());
        assertEquals(16, mean.length, "--quick compares 16 positions");
        // Every pair reaches all 16 positions, so the pair-weighted means are plain means of the curve.
        for (JsonNode c : step.get("count_by_position")) assertEquals(6, c.asInt());
        assertEquals(mean[0], h.get("first_token").asDouble());
        assertEquals(average(mean, 0, 5), h.get("first_tokens_mean").asDouble(), 1e-12);
        assertEquals(average(mean, 5, mean.length), h.get("later_tokens_mean").asDouble(), 1e-12);
        assertEquals(step.get("share_in_first_5").asDouble(), h.get("share_in_first_5").asDouble());
        assertEquals(6, lines(out.resolve("kl/results.jsonl")).size());
        // The organism's finding: the chat model differs from its base mostly at the start of the answer.
        assertTrue(h.get("first_token").asDouble() > 10 * h.get("later_tokens_mean").asDouble(), h.toString());
    }

    @Test
    @Order(3)
    void prefillAsrIsCountedFromTheAttackResults() throws Exception {
        JsonNode step = read(out.resolve("prefill/summary.json")), asr = summary.get("prefill").get("asr_by_tokens");
        assertEquals(step.get("asr_by_tokens"), asr);
        assertEquals(List.of("0", "5"), names(asr));
        Map<String, int[]> counts = new HashMap<>();
        for (JsonNode line : lines(out.resolve("prefill/results.jsonl"))) {
            if (!line.has("k")) continue;                              // the degenerate rule's calibration
            int[] c = counts.computeIfAbsent(line.get("k").asText(), k -> new int[2]);
            if (line.get("verdict").asText().equals("complied")) c[0]++;
            c[1]++;
        }
        for (String k : names(asr)) {
            assertEquals(6, counts.get(k)[1]);
            assertEquals((double) counts.get(k)[0] / counts.get(k)[1], asr.get(k).asDouble(), 1e-12, "k=" + k);
        }
    }

    @Test
    @Order(4)
    void antidoteFiguresAreCountedFromTheVerdictsAndChosenOnTheTuningSplit() throws Exception {
        JsonNode step = read(out.resolve("antidote/summary.json")), h = summary.get("antidote");
        assertEquals(step.get("scales"), h.get("scales"));
        assertEquals(List.of(0.0, 40.0), list(h.get("scales")));
        List<JsonNode> rows = lines(out.resolve("antidote/results.jsonl")).stream().filter(r -> r.has("scale")).toList();
        assertEquals(2, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            for (String split : List.of("tuning", "report")) {
                JsonNode row = rows.get(i).get(split);
                Map<String, Integer> verdicts = new HashMap<>();
                for (JsonNode r : row.get("responses")) {
                    assertTrue(r.get("response").asText().startsWith("Sure, here is"), "attacked with the prefill");
                    verdicts.merge(r.get("verdict").asText(), 1, Integer::sum);
                }
                int n = row.get("responses").size();
                assertEquals((double) verdicts.getOrDefault("complied", 0) / n, step.get(split).get("asr").get(i).asDouble(), 1e-12);
                assertEquals((double) verdicts.getOrDefault("degenerate", 0) / n,
                        step.get(split).get("degenerate_rate").get(i).asDouble(), 1e-12);
                assertEquals(2, step.get(split).get("asr_ci95").get(i).size());
            }
            // The headline is the report split's.
            assertEquals(step.get("report").get("asr").get(i).asDouble(), h.get("asr").get(i).asDouble());
            assertEquals(step.get("report").get("benign_utility").get(i), h.get("benign_utility").get(i));
        }
        // The tuning and report halves ask about different tasks.
        Set<String> tuning = new HashSet<>(), report = new HashSet<>();
        rows.getFirst().get("tuning").get("responses").forEach(r -> tuning.add(r.get("prompt").asText()));
        rows.getFirst().get("report").get("responses").forEach(r -> report.add(r.get("prompt").asText()));
        assertTrue(Collections.disjoint(tuning, report));
        assertEquals("tuning", h.get("chosen").get("split").asText());
        assertTrue(list(h.get("scales")).contains(h.get("chosen").get("scale").asDouble()));
        assertTrue(Files.isRegularFile(out.resolve("antidote/antidote.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("antidote/safety-utility.png")));
    }

    @Test
    @Order(5)
    void caaAndProbeFiguresAreThoseOfTheirRuns() throws Exception {
        JsonNode caa = read(out.resolve("caa/summary.json"));
        assertEquals(caa.get("mean_p_matching"), summary.get("caa").get("mean_p_matching"));
        assertEquals(caa.get("mean_log_odds"), summary.get("caa").get("mean_log_odds"));
        List<JsonNode> rows = lines(out.resolve("caa/results.jsonl")).stream().filter(r -> r.has("scale")).toList();
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(rows.get(i).get("degenerate_rate").asDouble(), caa.get("degenerate_rate").get(i).asDouble(), 1e-12);
            assertEquals(average(doubles(rows.get(i).get("p_matching")), 0, 12), caa.get("mean_p_matching").get(i).asDouble(), 1e-12);
        }
        // Measured on the organism: scale 128 at layer 2 raises p(coordinating answer) by orders of magnitude.
        assertTrue(caa.get("mean_p_matching").get(1).asDouble() > 100 * caa.get("mean_p_matching").get(0).asDouble());

        JsonNode probe = read(out.resolve("probe/summary.json")), h = summary.get("probe");
        assertEquals(probe.get("accuracy_by_layer"), h.get("accuracy_by_layer"));
        assertEquals(6, h.get("accuracy_by_layer").size(), "one probe per layer of the organism");
        assertEquals(probe.get("best_layer").asInt(), h.get("best_layer").asInt());
        assertEquals(24, h.get("n").asInt());
        for (JsonNode line : lines(out.resolve("probe/results.jsonl"))) {
            int layer = line.get("layer").asInt();
            assertEquals(line.get("accuracy").asDouble(), h.get("accuracy_by_layer").get(layer).asDouble());
        }
    }

    @Test
    @Order(6)
    void reportShowsEverySectionWithItsChartAndNumbers() throws Exception {
        String html = Files.readString(out.resolve("report.html"));
        // a chart per step that draws one: not the lying study (the organism cannot show it) nor HSI (a table)
        assertEquals(7, html.split("data:image/png;base64,", -1).length - 1, "one chart per step");
        assertFalse(html.contains("http://") || html.contains("https://") || html.toLowerCase().contains("<script"));
        for (String heading : List.of("Per-token KL", "prefilling attack", "Antidote", "CAA", "probes",
                "Localizing instructed lying", "Head-specific intervention", "Conditional steering", "9. Make it deep")) {
            assertTrue(html.contains(heading), heading);
        }
        String asr5 = String.format(java.util.Locale.ROOT, "<td>%.2f</td>", summary.get("prefill").get("asr_by_tokens").get("5").asDouble());
        assertTrue(html.contains(asr5), "the table beside the prefill chart");
        // the organism never learned true/false: the lying section says so instead of drawing probes
        assertTrue(html.contains("Not shown: held-out accuracy under the honest prompt is"), "the lying study's refusal to draw");
    }

    @Test
    @Order(7)
    void rerunSkipsFinishedStepsAndRecomputesNothing() throws Exception {
        Map<String, String> before = new HashMap<>();
        for (String step : STEPS) before.put(step, Files.readString(out.resolve(step).resolve("results.jsonl")));
        CliRun again = demo("--quick", "--out", out.toString(), "--json");
        assertEquals(0, again.exitCode(), again.err());
        for (String step : STEPS) {
            assertTrue(again.err().contains("] " + step + ": already done, skipped"), again.err());
            assertEquals(before.get(step), Files.readString(out.resolve(step).resolve("results.jsonl")), step);
        }
        JsonNode printed = JSON.readTree(again.out());
        for (String step : STEPS) assertEquals(summary.get(step), printed.get(step), step);
        assertEquals(summary.get("seconds"), printed.get("seconds"), "times of the run that computed the steps");
        assertEquals(out.resolve("report.html").toString(), printed.get("report").asText());
    }

    @Test
    @Order(8)
    void aKilledSweepResumesAtTheScaleItHadNotFinished() throws Exception {
        Path results = out.resolve("antidote/results.jsonl");
        List<String> lines = Files.readAllLines(results);
        Files.write(results, List.of(lines.getFirst()));           // as if killed during the second scale
        Files.delete(out.resolve("antidote/summary.json"));
        CliRun again = demo("--quick", "--out", out.toString());
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.err().contains("] antidote: Antidote") && again.err().contains("(resuming)"), again.err());
        assertEquals(lines, Files.readAllLines(results), "the second scale recomputed to the same answers");
        assertEquals(summary.get("antidote"), read(out.resolve("summary.json")).get("antidote"));
    }

    @Test
    @Order(9)
    void otherOptionsOnTheSameFolderAreBadInput() {
        CliRun full = demo("--out", out.toString());
        assertEquals(Vane.BAD_INPUT, full.exitCode());
        assertTrue(full.err().contains("different config"), full.err());
        CliRun scales = demo("--quick", "--out", out.toString(), "--caa-scales", "0,64");
        assertEquals(Vane.BAD_INPUT, scales.exitCode());
        assertTrue(scales.err().contains("different config (sizes)"), "the scales are part of the config: " + scales.err());
    }

    @Test
    @Order(10)
    void aMissingDataFileIsBadInputNamingIt() {
        Path missing = tmp.resolve("nope.jsonl");
        CliRun r = CliRun.of("demo", "--quick", "--out", tmp.resolve("other").toString(), "--harmful", missing.toString());
        assertEquals(Vane.BAD_INPUT, r.exitCode());
        assertTrue(r.err().contains(missing.toString()), r.err());
        assertFalse(Files.exists(tmp.resolve("other")), "nothing written before the inputs are checked");
    }

    /** The screenshot script on the real report; skipped where Chromium is not installed. */
    @Test
    @Order(11)
    void chromiumRendersTheReport() throws Exception {
        assumeTrue(List.of("chromium", "chromium-browser", "google-chrome").stream().anyMatch(DemoCommandTest::onPath),
                "no Chromium on this machine");
        Path script = Path.of(System.getProperty("vane.home"), "bench", "screenshot-report.sh");
        Path png = tmp.resolve("shot.png");
        Process p = new ProcessBuilder("bash", script.toString(), out.resolve("report.html").toString(), png.toString(), "1200,2000")
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium hung");
        assertEquals(0, p.exitValue(), log);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1200, image.getWidth());
        assertEquals(2000, image.getHeight());
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) return true;
        }
        return false;
    }

    private static JsonNode read(Path file) throws Exception {
        return JSON.readTree(file.toFile());
    }

    private static List<JsonNode> lines(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static List<Double> list(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    private static double[] doubles(JsonNode array) {
        return list(array).stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double average(double[] xs, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += xs[i];
        return s / (to - from);
    }
}
