package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.Model;
import dev.vane.train.lora.LoraMerge;
import dev.vane.train.lora.PeftAdapter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code vane train merge}: folds LoRA adapters into the base weights and writes a plain checkpoint. */
@Command(name = "merge",
        description = {"Merge LoRA adapters into their base model: W' = W + (alpha / r) B A for every adapted layer, "
                + "written as a Hugging Face checkpoint in the base's dtype (one bf16 rounding per changed weight) "
                + "with its config, generation config and tokenizer, loadable by Vane, transformers or llama.cpp's "
                + "converter without PEFT.",
                "The base model is --model, else the adapter's base_model_name_or_path when that is a directory "
                        + "here, else the bundled organism. --out must be new, empty, or an earlier merge output."},
        footerHeading = "%nExamples:%n",
        footer = {"  vane train merge --adapter runs/sft-harmful/adapter --out models/organism-harmful",
                "  vane train merge --model ~/models/Llama-3.2-1B-Instruct --adapter peft-adapter --out ~/models/merged"},
        mixinStandardHelpOptions = true)
final class TrainMergeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--adapter", required = true, paramLabel = "DIR",
            description = "PEFT adapter directory (adapter_config.json + adapter_model.safetensors). Repeat to merge several.")
    List<Path> adapters = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the merged checkpoint.")
    Path out;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Base checkpoint (default: the first adapter's base_model_name_or_path if it is a directory, "
                    + "else the bundled organism, " + ModelOption.BUNDLED + ").")
    Path model;

    @Override
    public Integer call() {
        Path base = model != null ? model : defaultBase(adapters.getFirst());
        PrintWriter o = spec.commandLine().getOut();
        try (Model m = Model.load(base)) {
            List<LoraAdapter> loaded = new ArrayList<>();
            for (Path dir : adapters) loaded.add(PeftAdapter.read(dir, m));
            int changed = LoraMerge.changedWeights(m.config(), loaded).size();
            LoraMerge.write(m, loaded, out);
            for (int i = 0; i < loaded.size(); i++) {
                LoraAdapter a = loaded.get(i);
                o.printf(Locale.ROOT, "adapter %s: rank %d, alpha %s, targets %s%n", adapters.get(i), a.rank(),
                        a.alpha(), String.join(",", a.targets().stream().sorted().map(LoraAdapter.Target::module).toList()));
            }
            o.printf("Merged into %s: %d weight matrices changed, dtype kept (%s); written to %s%n", base, changed,
                    m.weights().info("model.embed_tokens.weight").dtype(), out);
        }
        o.flush();
        return 0;
    }

    /** The adapter's base_model_name_or_path when it is a directory here; else the bundled organism, if it is that. */
    private static Path defaultBase(Path adapter) {
        Optional<Path> dir = PeftAdapter.baseModelDirectory(adapter);
        if (dir.isPresent()) return dir.get();
        Optional<String> named = PeftAdapter.baseModelNameOrPath(adapter);
        Path bundled = ModelOption.bundled("organism-chat");
        if (named.isPresent() && !bundled.getFileName().toString().equalsIgnoreCase(PeftAdapter.lastComponent(named.get()))) {
            throw new InvalidInputException(adapter.resolve(PeftAdapter.CONFIG_FILE), "base_model_name_or_path \""
                    + named.get() + "\" is not a directory here; pass the base checkpoint with --model DIR");
        }
        return bundled;
    }
}
