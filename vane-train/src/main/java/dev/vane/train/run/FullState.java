package dev.vane.train.run;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.safetensors.SafetensorsWriter;
import dev.vane.core.tensor.DType;
import dev.vane.train.full.FullWeights;
import dev.vane.train.grad.Gradients;
import dev.vane.train.io.HfCheckpointWriter;
import dev.vane.train.optim.AdamW;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Full fine-tuning: every weight as a float32 master. Checkpoints hold the masters in float32 (so a resumed
 * run continues exactly); the result is a Hugging Face checkpoint in the original dtypes.
 *
 * <pre>{@code
 * try (FullState state = FullState.of(Path.of("models/organism-chat"))) { ... }
 * }</pre>
 */
public final class FullState implements TrainableState {
    private static final String MASTERS = "weights.safetensors";
    private final Path source;
    private final FullWeights weights;
    private final Gradients gradients = Gradients.allParameters();
    private final List<AdamW.Parameter> parameters = new ArrayList<>();

    private FullState(Path source) {
        this.source = source;
        this.weights = FullWeights.load(source);
        for (FullWeights.Parameter p : weights.parameters()) {
            float[] grad = gradients.accumulator(p.name(), p.values().length);
            parameters.add(new AdamW.Parameter(p.name(), p.values(), grad, p.decay()));
        }
    }

    public static FullState of(Path checkpoint) {
        return new FullState(checkpoint);
    }

    @Override
    public Model model() {
        return weights.model();
    }

    @Override
    public Gradients gradients() {
        return gradients;
    }

    @Override
    public List<AdamW.Parameter> parameters() {
        return parameters;
    }

    @Override
    public void publish() {
        weights.publish();
    }

    @Override
    public void save(Path checkpoint) throws IOException {
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "vane.full-weights/1");
        for (FullWeights.Parameter p : weights.parameters()) out.add(p.name(), DType.F32, p.shape(), p.values());
        out.write(checkpoint.resolve(MASTERS));
    }

    @Override
    public void load(Path checkpoint) {
        Path file = checkpoint.resolve(MASTERS);
        try (SafetensorsFile in = SafetensorsFile.open(file)) {
            for (FullWeights.Parameter p : weights.parameters()) {
                if (!in.contains(p.name())) throw new InvalidInputException(file, "missing weight '" + p.name() + "'");
                float[] saved = in.readFloats(p.name());
                if (saved.length != p.values().length) {
                    throw new InvalidInputException(file, "'" + p.name() + "' has " + saved.length + " values, expected "
                            + p.values().length);
                }
                System.arraycopy(saved, 0, p.values(), 0, saved.length);
            }
        }
        weights.publish();
    }

    @Override
    public void export(Path out) {
        Map<String, float[]> replaced = new LinkedHashMap<>();
        for (FullWeights.Parameter p : weights.parameters()) replaced.put(p.name(), p.values());
        try (Model original = Model.load(source)) {
            HfCheckpointWriter.write(original, replaced, out);
        }
    }

    @Override
    public long parameterCount() {
        long n = 0;
        for (FullWeights.Parameter p : weights.parameters()) n += p.values().length;
        return n;
    }

    @Override
    public void close() {
        weights.close();
    }
}
