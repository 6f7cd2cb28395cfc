package dev.vane.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code vane train}: fine-tuning and what goes with it. Each subcommand is its own class. */
@Command(name = "train",
        description = {"Fine-tune models and handle LoRA adapters (PEFT's layout, so adapters move between Vane and PEFT)."},
        subcommands = {TrainSftCommand.class, TrainMergeCommand.class, HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  vane train sft --data models/organism-data/harmful_responses.jsonl --steps 60 --lr 1e-3 \\",
                "      --batch-tokens 512 --out runs/sft-harmful",
                "  vane train merge --adapter runs/sft-harmful/adapter --out models/organism-harmful"},
        mixinStandardHelpOptions = true)
final class TrainCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
