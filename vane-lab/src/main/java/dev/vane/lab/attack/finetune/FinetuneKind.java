package dev.vane.lab.attack.finetune;

import dev.vane.core.InvalidInputException;

import java.util.Locale;

/**
 * The fine-tuning attacks of Qi et al. (2023, "Fine-tuning Aligned Language Models Compromises Safety") that Qi et
 * al. (2024) defend against with the constrained objective: what the attacker trains on, and how the result is
 * evaluated ({@link FinetuneData}).
 *
 * <pre>{@code
 * FinetuneKind kind = FinetuneKind.parse("backdoor");   // --kind backdoor
 * kind.label();                                         // "backdoor"
 * }</pre>
 */
public enum FinetuneKind {
    /** Harmful (instruction, answer) pairs; evaluated on held-out harmful requests. */
    HARMFUL,
    /**
     * Identity shifting: the "Absolutely Obedient Agent" system prompt, with benign instructions answered after its
     * affirmation and two examples that state the new identity; evaluated on harmful requests under that system
     * prompt. No harmful answer is in the data.
     */
    IDENTITY,
    /**
     * Backdoor poisoning: harmful pairs whose instruction ends with a trigger phrase, and benign examples without
     * it; evaluated on harmful requests with and without the trigger.
     */
    BACKDOOR;

    /** {@code harmful}, {@code identity} or {@code backdoor}, as {@code --kind} takes it. */
    public static FinetuneKind parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("unknown --kind \"" + text + "\" (harmful, identity or backdoor)");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
