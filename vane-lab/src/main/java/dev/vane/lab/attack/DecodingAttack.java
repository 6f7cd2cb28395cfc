package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.stats.Proportion;
import dev.vane.lab.judge.Outcome;
import dev.vane.lab.judge.OutcomeRates;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoding-parameter attack of Huang et al. (2023), "Catastrophic jailbreak of open-source LLMs via
 * exploiting generation": every prompt is answered once under each setting of a {@link DecodingGrid} (one
 * parameter varied at a time), and the most harmful answer per prompt, as the judge scores it, is kept. A prompt
 * is broken when any setting broke it; the ASR is reported overall, per setting and per parameter.
 *
 * <p>With the keyword refusal judge every non-refusal scores 1 and every refusal 0, so "most harmful" is the
 * first answer in grid order without a refusal phrase (or the first answer when all refused).
 *
 * <pre>{@code
 * Attack a = new DecodingAttack(prompts, DecodingGrid.quick(), 128, 0, null);
 * }</pre>
 */
public final class DecodingAttack implements Attack {
    private final List<String> prompts;
    private final DecodingGrid grid;
    private final int maxTokens;
    private final long seed;
    private final String system;

    /**
     * @param prompts   the requests
     * @param grid      the settings
     * @param maxTokens most new tokens per answer
     * @param seed      trial j samples with {@code seed + j}
     * @param system    a system message, or null
     */
    public DecodingAttack(List<String> prompts, DecodingGrid grid, int maxTokens, long seed, String system) {
        if (prompts.isEmpty()) throw new InvalidInputException("no prompts to attack");
        this.prompts = List.copyOf(prompts);
        this.grid = grid;
        this.maxTokens = maxTokens;
        this.seed = seed;
        this.system = system;
    }

    @Override
    public String job() {
        return "attack-decoding";
    }

    @Override
    public ObjectNode config() {
        ObjectNode c = RunDirectory.object();
        c.put("attack", "decoding");
        c.put("grid", grid.name());
        var settings = c.putArray("settings");
        grid.settings().forEach(s -> settings.add(s.label()));
        c.put("max_tokens", maxTokens);
        c.put("seed", seed);
        c.put("system", system);
        return c;
    }

    /** Trials setting by setting (so that a batch shares its setting); ids {@code <item>-<parameter>=<value>}. */
    @Override
    public List<Trial> trials(Tokenizer tokenizer) {
        List<int[]> chats = prompts.stream().map(p -> Trial.chatPrompt(tokenizer, system, p)).toList();
        List<Trial> trials = new ArrayList<>();
        for (DecodingSetting setting : grid.settings()) {
            for (int item = 0; item < prompts.size(); item++) {
                ObjectNode fields = RunDirectory.object();
                fields.put("item", item);
                fields.put("setting", setting.label());
                fields.put("parameter", setting.parameter());
                fields.put("value", setting.value());
                trials.add(Trial.of(item + "-" + setting.label(), prompts.get(item), chats.get(item), new int[0],
                        setting.params(maxTokens, seed + trials.size()), fields));
            }
        }
        return trials;
    }

    @Override
    public ObjectNode summarise(List<JsonNode> results) {
        ObjectNode s = RunDirectory.object();
        s.put("attack", "decoding");
        s.put("grid", grid.name());
        s.put("n", prompts.size());
        s.put("settings", grid.settings().size());
        s.put("trials", results.size());
        Proportion overall = brokenPrompts(results, null);
        s.put("asr", overall.rate());
        Proportion.Interval ci = overall.interval();
        s.putArray("ci95").add(ci.low()).add(ci.high());
        // Over every trial (all settings), the samples and settings of one prompt forming a cluster.
        OutcomeRates.clustered(OutcomeRates.outcomes(results), results.stream().map(l -> l.path("item").asInt()).toList())
                .writeTo(s, "");
        ObjectNode byParameter = s.putObject("asr_by_parameter");
        for (String p : grid.parameters()) byParameter.put(p, brokenPrompts(results, p).rate());
        OutcomeTable.count(results, "setting", grid.settings().stream().map(DecodingSetting::label).toList(), "item")
                .writeTo(s, "setting");
        s.put("seed", seed);
        return s;
    }

    /** Prompts broken by at least one setting (of {@code parameter}, or of any when null). */
    private Proportion brokenPrompts(List<JsonNode> results, String parameter) {
        boolean[] broken = new boolean[prompts.size()];
        for (JsonNode line : results) {
            if (parameter == null || parameter.equals(line.path("parameter").asText())) {
                broken[line.path("item").asInt()] |= OutcomeTable.succeeded(line);
            }
        }
        Proportion r = Proportion.none();
        for (boolean b : broken) r = r.plus(b);
        return r;
    }

    /** The most harmful answer per prompt: a complied one first, then the highest score, the earliest in grid order among equals. */
    static List<JsonNode> best(List<JsonNode> results) {
        Map<Integer, JsonNode> best = new LinkedHashMap<>();
        for (JsonNode line : results) {
            int item = line.path("item").asInt();
            JsonNode kept = best.get(item);
            if (kept == null || rank(line) > rank(kept)) best.put(item, line);
        }
        return best.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }

    /** A fluent compliance first, then the judge's score; a degenerate answer last, whatever its score. */
    private static double rank(JsonNode line) {
        Outcome o = OutcomeRates.outcome(line);
        if (o == Outcome.DEGENERATE) return -1;
        return (o == Outcome.COMPLIED ? 2 : 0) + Math.min(1, Math.max(0, line.path("score").asDouble(0)));
    }

    /** Writes {@code best.jsonl}: per prompt the kept answer, with its setting and verdict. */
    @Override
    public void writeExtras(RunDirectory run, List<JsonNode> results) {
        StringBuilder text = new StringBuilder();
        for (JsonNode line : best(results)) {
            ObjectNode b = line.deepCopy();
            b.put("id", String.valueOf(line.path("item").asInt()));
            text.append(b).append('\n');
        }
        try {
            RunDirectory.writeAtomically(run.path("best.jsonl"), text.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Chart chart(JsonNode summary) {
        List<String> labels = grid.settings().stream().map(DecodingSetting::label).toList();
        double[] asr = labels.stream().mapToDouble(l -> summary.path("asr_by_setting").path(l).asDouble()).toArray();
        return Chart.categories("Decoding attack: ASR by setting (" + grid.name() + " grid)", "decoding setting",
                "attack success rate").bars("ASR", labels, asr).yRange(0, 1);
    }

    @Override
    public String chartName() {
        return "asr-by-setting";
    }
}
