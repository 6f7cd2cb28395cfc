package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.Model;
import dev.vane.core.tensor.Compute;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.run.RunDirectory;
import dev.vane.train.lora.PeftAdapter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a JVM loads a job's model: the checkpoint directory and any LoRA adapters, as absolute paths (a cluster's
 * executors read them from the same path, so it must be a shared folder), and the precision of its products (the
 * driver's {@code --compute}, which an executor's own default would otherwise replace). {@link #load()} loads each distinct
 * setup once per JVM and keeps it (memory-mapped) for every later task there.
 *
 * <pre>{@code
 * ModelSetup setup = new ModelSetup(Path.of("models/organism-chat"), List.of());
 * LoadedModel m = ModelSetup.fromJson(setup.json()).load();     // on an executor: loaded on its first task only
 * }</pre>
 *
 * @param directory the checkpoint directory
 * @param adapters  PEFT adapter directories applied at run time, in order
 * @param compute   the precision of the model's large products
 */
public record ModelSetup(Path directory, List<Path> adapters, Compute compute) {
    private static final Map<ModelSetup, LoadedModel> LOADED = new ConcurrentHashMap<>();

    public ModelSetup {
        directory = directory.toAbsolutePath().normalize();
        adapters = adapters.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    /** A setup in this process's default precision ({@code --compute} or {@code VANE_COMPUTE}). */
    public ModelSetup(Path directory, List<Path> adapters) {
        this(directory, adapters, Compute.byDefault());
    }

    /** {@code {"directory", "adapters": [...], "compute"}}. */
    public ObjectNode json() {
        ObjectNode o = RunDirectory.object().put("directory", directory.toString()).put("compute", compute.toString());
        ArrayNode a = o.putArray("adapters");
        adapters.forEach(p -> a.add(p.toString()));
        return o;
    }

    /** The setup {@link #json()} wrote. */
    public static ModelSetup fromJson(JsonNode json) {
        List<Path> adapters = new ArrayList<>();
        json.path("adapters").forEach(a -> adapters.add(Path.of(a.asText())));
        JsonNode compute = json.path("compute");
        return new ModelSetup(Path.of(json.get("directory").asText()), adapters,
                compute.isTextual() ? Compute.parse(compute.asText()) : Compute.byDefault());
    }

    /** The model with its adapters and its tokenizer, loaded on first use in this JVM and kept open. */
    public LoadedModel load() {
        return LOADED.computeIfAbsent(this, ModelSetup::open);
    }

    private LoadedModel open() {
        Model base = Model.load(directory);
        try {
            Model model = base;
            if (!adapters.isEmpty()) {
                List<LoraAdapter> read = new ArrayList<>();
                for (Path dir : adapters) read.add(PeftAdapter.read(dir, base));
                model = base.withAdapters(read);
            }
            return new LoadedModel(model.withCompute(compute), Tokenizer.load(directory));
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }
}
