package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.train.SftRun;
import dev.vane.train.grad.ConstraintBetas;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The training objective of the commands that fine-tune ({@code train sft}, {@code attack finetune}): plain SFT or
 * the token-wise constrained objective, its reference and betas, and the defaults that change with it (the paper's
 * constrained runs use AdamW beta1 0.5 and 10 warm-up steps).
 *
 * <pre>{@code
 * @Mixin ObjectiveOptions objective;
 * SftRun.Options o = base.withObjective(objective.constraint(modelDir), objective.adamBeta1());
 * }</pre>
 */
final class ObjectiveOptions {
    @Option(names = "--objective", paramLabel = "NAME", defaultValue = "sft",
            description = "sft (cross-entropy on the trained tokens) or constrained (token-wise constrained against "
                    + "--reference; its defaults: --warmup 10, --adam-beta1 0.5) (default: ${DEFAULT-VALUE}).")
    String objective;

    @Option(names = "--reference", paramLabel = "DIR",
            description = "The aligned model the constrained objective holds the fine-tune near (default: --model).")
    Path reference;

    @Option(names = "--betas", paramLabel = "LIST", defaultValue = "0.5,2,2,2,2,0.1",
            description = "Constrained objective: beta of response token 1, 2, ...; the last for every later token "
                    + "(default: ${DEFAULT-VALUE}, the paper's 0.1 x5 on the first token, x20 on tokens 2-5).")
    String betas;

    @Option(names = "--min-weight", paramLabel = "W", defaultValue = "1e-3",
            description = "Constrained objective: lower clamp of each token's weight (default: ${DEFAULT-VALUE}).")
    double minWeight;

    @Option(names = "--adam-beta1", paramLabel = "B",
            description = "AdamW's beta1 (default: 0.9; 0.5 with --objective constrained, as the paper).")
    Double adamBeta1;

    @Option(names = "--warmup", paramLabel = "N", description = "Linear warm-up steps (default: 0; 10 with --objective constrained).")
    Long warmup;

    /** True for {@code --objective constrained}. */
    boolean constrained() {
        boolean c = switch (objective.strip().toLowerCase(Locale.ROOT)) {
            case "sft" -> false;
            case "constrained" -> true;
            default -> throw new InvalidInputException("unknown --objective \"" + objective + "\" (sft or constrained)");
        };
        if (!c && reference != null) throw new InvalidInputException("--reference is for --objective constrained");
        return c;
    }

    /** The constrained objective's settings against {@code --reference} or {@code model}; null for SFT. */
    SftRun.Constraint constraint(Path model) {
        return constrained() ? new SftRun.Constraint(reference != null ? reference : model, ConstraintBetas.parse(betas),
                minWeight) : null;
    }

    double adamBeta1() {
        return adamBeta1 != null ? adamBeta1 : constrained() ? 0.5 : 0.9;
    }

    long warmup() {
        return warmup != null ? warmup : constrained() ? 10 : 0;
    }
}
