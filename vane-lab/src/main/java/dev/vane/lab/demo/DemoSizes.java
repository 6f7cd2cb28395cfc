package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.lab.run.RunDirectory;

import java.util.List;

/**
 * How much of each step the demo runs. {@link #full()} is the default run, sized so that the whole demo finishes
 * in a few minutes on 2 cores with the bundled organism; {@link #quick()} is the reduced run the tests use.
 * Limits cut lists at their first items ({@code 0} = no limit).
 *
 * <pre>{@code
 * DemoSizes sizes = quick ? DemoSizes.quick() : DemoSizes.full();
 * sizes.antidoteScales();     // [0, 10, 20, 30, 40, 50, 60, 80]
 * }</pre>
 *
 * @param maxNewTokens       tokens generated per answer in the attack and the refusal sweep
 * @param klPairs            (prompt, harmful response) pairs of the per-token KL
 * @param klPositions        response tokens compared per pair
 * @param prefillPairs       pairs attacked by the prefilling attack
 * @param prefillTokens      numbers of prefilled tokens k
 * @param antidotePairs      harmful/benign train pairs the Antidote vector is built from
 * @param antidoteHarmful    harmful test prompts attacked at each scale
 * @param antidoteBenign     benign prompts checked for over-refusal at each scale
 * @param antidoteScales     Antidote scales swept
 * @param caaScales          CAA scales swept
 * @param probePerClass      harmful and benign prompts (each) the probes are trained on
 * @param probeFolds         folds of the probes' cross-validation
 */
public record DemoSizes(int maxNewTokens, int klPairs, int klPositions, int prefillPairs, List<Integer> prefillTokens,
                        int antidotePairs, int antidoteHarmful, int antidoteBenign, List<Float> antidoteScales,
                        List<Float> caaScales, int probePerClass, int probeFolds) {
    public DemoSizes {
        if (antidoteScales.isEmpty() || caaScales.isEmpty()) throw new InvalidInputException("a scale sweep needs at least one scale");
        prefillTokens = List.copyOf(prefillTokens);
        antidoteScales = List.copyOf(antidoteScales);
        caaScales = List.copyOf(caaScales);
    }

    /**
     * The default run. The scales are the organism's: its Antidote answers turn degenerate from about 50 on, and
     * its CAA vector needs scales of order 100 to move p(matching), where its answers are already broken.
     */
    public static DemoSizes full() {
        return new DemoSizes(48, 0, 0, 0, List.of(0, 5, 10, 20, 40), 0, 0, 0, List.of(0f, 10f, 20f, 30f, 40f, 50f, 60f, 80f),
                List.of(-128f, -64f, 0f, 32f, 64f, 128f), 0, 5);
    }

    /** A reduced run (seconds, not minutes) with every step and chart present: for tests and smoke checks. */
    public static DemoSizes quick() {
        return new DemoSizes(16, 6, 16, 6, List.of(0, 5), 12, 6, 6, List.of(0f, 40f), List.of(0f, 128f), 12, 3);
    }

    /** These sizes with other Antidote scales (a real model's useful range differs from the organism's). */
    public DemoSizes withAntidoteScales(List<Float> scales) {
        return new DemoSizes(maxNewTokens, klPairs, klPositions, prefillPairs, prefillTokens, antidotePairs,
                antidoteHarmful, antidoteBenign, scales, caaScales, probePerClass, probeFolds);
    }

    /** These sizes with other CAA scales (Llama-2-7b-chat: about -1.5 to 1.5; the organism: about 100). */
    public DemoSizes withCaaScales(List<Float> scales) {
        return new DemoSizes(maxNewTokens, klPairs, klPositions, prefillPairs, prefillTokens, antidotePairs,
                antidoteHarmful, antidoteBenign, antidoteScales, scales, probePerClass, probeFolds);
    }

    /** The first {@code limit} items of {@code items} ({@code limit} 0 = all). */
    static <T> List<T> first(List<T> items, int limit) {
        return limit <= 0 || limit >= items.size() ? items : items.subList(0, limit);
    }

    /** The sizes as recorded in run configs: a limit of 0 means "all" and is written as null, not as 0. */
    ObjectNode json() {
        ObjectNode json = RunDirectory.JSON.valueToTree(this);
        for (String limit : LIMITS) {
            if (json.get(limit).asInt() <= 0) json.putNull(limit);
        }
        return json;
    }

    /** The fields that cut a list (0 = no limit), by their JSON names. */
    private static final List<String> LIMITS = List.of("klPairs", "klPositions", "prefillPairs", "antidotePairs",
            "antidoteHarmful", "antidoteBenign", "probePerClass");
}
