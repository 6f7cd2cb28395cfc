package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.Model;
import dev.vane.lab.run.RunDirectory;
import dev.vane.train.lora.PeftAdapter;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The repeatable {@code --adapter DIR} option: LoRA adapters in PEFT's layout, applied at run time as their
 * low-rank terms on top of the model (no merge), together with any {@code --steer} vectors.
 *
 * <pre>{@code
 * @Mixin AdapterOption adapters;
 * try (Model model = adapters.load(modelOption.resolve())) { ... }     // the model with every adapter
 * adapters.record(config);                                             // "adapters" in a run's config.json
 * }</pre>
 */
final class AdapterOption {
    @Option(names = "--adapter", paramLabel = "DIR",
            description = "Apply a LoRA adapter at run time: a PEFT adapter directory (adapter_config.json + "
                    + "adapter_model.safetensors, from `vane train sft` or PEFT's save_pretrained). Repeat to add "
                    + "several; they combine with --steer.")
    List<Path> dirs = new ArrayList<>();

    /** Loads the model in {@code directory} with every adapter; nothing stays open if an adapter is refused. */
    Model load(Path directory) {
        Model base = Model.load(directory);
        try {
            return apply(base);
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    /** {@code base} with the adapters (a view sharing its weights), or {@code base} itself when there are none. */
    Model apply(Model base) {
        if (dirs.isEmpty()) return base;
        List<LoraAdapter> adapters = new ArrayList<>();
        for (Path dir : dirs) adapters.add(PeftAdapter.read(dir, base));
        return base.withAdapters(adapters);
    }

    /** Adds {@code "adapters": [{"dir", "config_sha256", "weights_sha256"}]} to a run config when any are given. */
    void record(ObjectNode config) {
        if (dirs.isEmpty()) return;
        ArrayNode list = config.putArray("adapters");
        for (Path dir : dirs) {
            list.addObject().put("dir", RunOptions.absolute(dir))
                    .put("config_sha256", RunDirectory.sha256(dir.resolve(PeftAdapter.CONFIG_FILE)))
                    .put("weights_sha256", RunDirectory.sha256(dir.resolve(PeftAdapter.WEIGHTS_FILE)));
        }
    }

    /** The adapter directories as one line for a start-up message, e.g. {@code adapters/harmful}. */
    String describe() {
        return dirs.isEmpty() ? "none" : String.join(", ", dirs.stream().map(Path::toString).toList());
    }
}
