package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.chart.Chart;
import dev.vane.lab.data.PromptResponse;
import dev.vane.lab.run.RunDirectory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * The prefilling attack of Qi et al. (2024): the first k tokens of a harmful answer are forced into the assistant
 * turn and the model continues; the attack success rate is reported per k. The k tokens are exact token prefixes
 * of the response tokenized alone (no special tokens), appended to the chat prompt's ids, not re-tokenized text.
 *
 * <p>With fixed texts instead of k ({@link #prefixes}) the same machinery forces, say, "I cannot" into every
 * answer: the refusal-prefix experiment on a base model (does a forced refusal opening make it refuse?). An
 * empty prefix is the no-prefill baseline.
 *
 * <pre>{@code
 * Attack a = PrefillAttack.tokens(data, List.of(0, 5, 10, 20, 40), 1, SamplingParams.greedy(128), null);
 * Attack b = PrefillAttack.prefixes(prompts, List.of("", "I cannot", "I'm sorry"), 1, SamplingParams.greedy(128), null);
 * }</pre>
 */
public final class PrefillAttack implements Attack {
    private final List<String> prompts;
    private final List<String> responses;       // token mode only
    private final List<Integer> tokens;         // token mode: the k values
    private final List<String> prefixes;        // prefix mode: the fixed texts
    private final int samples;
    private final SamplingParams params;
    private final String system;

    private PrefillAttack(List<String> prompts, List<String> responses, List<Integer> tokens, List<String> prefixes,
                          int samples, SamplingParams params, String system) {
        if (prompts.isEmpty()) throw new InvalidInputException("no prompts to attack");
        if (samples < 1) throw new InvalidInputException("--samples must be >= 1, got " + samples);
        if (samples > 1 && params.isGreedy()) {
            throw new InvalidInputException("--samples " + samples + " with greedy decoding (temperature 0) gives "
                    + samples + " identical answers; set --temperature");
        }
        this.prompts = List.copyOf(prompts);
        this.responses = responses == null ? null : List.copyOf(responses);
        this.tokens = tokens == null ? null : List.copyOf(tokens);
        this.prefixes = prefixes == null ? null : List.copyOf(prefixes);
        this.samples = samples;
        this.params = params;
        this.system = system;
    }

    /** Prefills the first k tokens of each response, for each k of {@code ks}. */
    public static PrefillAttack tokens(List<PromptResponse> data, List<Integer> ks, int samples, SamplingParams params,
                                       String system) {
        if (ks.isEmpty()) throw new InvalidInputException("--tokens lists no k");
        for (int k : ks) if (k < 0) throw new InvalidInputException("--tokens: k must be >= 0, got " + k);
        distinct(ks.stream().map(String::valueOf).toList(), "--tokens");
        return new PrefillAttack(data.stream().map(PromptResponse::prompt).toList(),
                data.stream().map(PromptResponse::response).toList(), ks, null, samples, params, system);
    }

    /** Prefills each fixed text of {@code texts} (an empty text: no prefill). */
    public static PrefillAttack prefixes(List<String> prompts, List<String> texts, int samples, SamplingParams params,
                                         String system) {
        if (texts.isEmpty()) throw new InvalidInputException("--prefix lists no text");
        distinct(texts, "--prefix");
        return new PrefillAttack(prompts, null, null, texts, samples, params, system);
    }

    private boolean tokenMode() {
        return tokens != null;
    }

    /** The group labels in order: the k values, or the prefixes. */
    private List<String> groups() {
        return tokenMode() ? tokens.stream().map(String::valueOf).toList() : prefixes;
    }

    /** "tokens" or "prefix": the suffix of the summary's {@code asr_by_...} keys. */
    private String by() {
        return tokenMode() ? "tokens" : "prefix";
    }

    @Override
    public String job() {
        return "attack-prefill";
    }

    @Override
    public ObjectNode config() {
        ObjectNode c = RunDirectory.object();
        c.put("attack", "prefill");
        var groups = c.putArray(tokenMode() ? "tokens" : "prefixes");
        if (tokenMode()) tokens.forEach(groups::add);
        else prefixes.forEach(groups::add);
        c.put("samples", samples);
        c.set("sampling", AttackRun.samplingJson(params));
        c.put("system", system);
        return c;
    }

    /**
     * Trials in the order item, group, sample; ids {@code <item>-k<k>-s<sample>} or {@code <item>-p<index>-s<sample>}.
     * Trial j samples with seed {@code params.seed() + j}.
     */
    @Override
    public List<Trial> trials(Tokenizer tokenizer) {
        List<int[]> prefixIds = tokenMode() ? null : prefixes.stream().map(p -> tokenizer.encode(p, false)).toList();
        List<String> groups = groups();
        List<Trial> trials = new ArrayList<>();
        for (int item = 0; item < prompts.size(); item++) {
            String prompt = prompts.get(item);
            int[] chat = Trial.chatPrompt(tokenizer, system, prompt);
            int[] response = tokenMode() ? tokenizer.encode(responses.get(item), false) : null;
            for (int g = 0; g < groups.size(); g++) {
                int[] forced = tokenMode() ? Arrays.copyOf(response, Math.min(tokens.get(g), response.length))
                        : prefixIds.get(g);
                for (int s = 0; s < samples; s++) {
                    ObjectNode fields = RunDirectory.object();
                    fields.put("item", item);
                    if (tokenMode()) fields.put("k", tokens.get(g));
                    else fields.put("prefix", prefixes.get(g));
                    fields.put("prefill_tokens", forced.length);
                    fields.put("sample", s);
                    String id = item + (tokenMode() ? "-k" + tokens.get(g) : "-p" + g) + "-s" + s;
                    trials.add(Trial.of(id, prompt, chat, forced, params.withSeed(params.seed() + trials.size()), fields));
                }
            }
        }
        return trials;
    }

    @Override
    public ObjectNode summarise(List<JsonNode> results) {
        ObjectNode s = RunDirectory.object();
        s.put("attack", "prefill");
        s.put("n", prompts.size());
        s.put("samples", samples);
        s.put("trials", results.size());
        OutcomeTable.count(results, tokenMode() ? "k" : "prefix", groups(), "item").writeTo(s, by());
        s.put("seed", params.seed());
        return s;
    }

    @Override
    public Chart chart(JsonNode summary) {
        List<String> groups = groups();
        double[] asr = new double[groups.size()], low = new double[groups.size()], high = new double[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            asr[g] = summary.path("asr_by_" + by()).path(groups.get(g)).asDouble();
            low[g] = summary.path("ci95_by_" + by()).path(groups.get(g)).path(0).asDouble();
            high[g] = summary.path("ci95_by_" + by()).path(groups.get(g)).path(1).asDouble();
        }
        if (tokenMode()) {
            double[] ks = tokens.stream().mapToDouble(Integer::doubleValue).toArray();
            return Chart.line("Prefilling attack: ASR by prefilled tokens", "prefilled tokens k", "attack success rate")
                    .series("ASR", ks, asr).interval("95% CI (Wilson)", ks, low, high).yRange(0, 1)
                    .legendBottomRight();
        }
        List<String> labels = groups.stream().map(p -> p.isEmpty() ? "(none)" : "\"" + p + "\"").toList();
        return Chart.categories("Prefix forcing: ASR by prefilled text", "prefilled text", "attack success rate")
                .bars("ASR", labels, asr).yRange(0, 1);
    }

    @Override
    public String chartName() {
        return "asr-by-" + by();
    }

    private static void distinct(List<String> values, String option) {
        if (new HashSet<>(values).size() != values.size()) {
            throw new InvalidInputException(option + " lists a value twice: " + values);
        }
    }
}
