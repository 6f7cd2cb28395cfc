package dev.vane.train.run;

import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.train.grad.Gradients;
import dev.vane.train.lora.PeftAdapter;
import dev.vane.train.optim.AdamW;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A LoRA adapter being trained on a frozen model: its factors are the parameters (no weight decay on B's zero
 * start is needed beyond what the run asks; both factors decay like matrices), saved in PEFT's layout.
 *
 * <pre>{@code
 * LoraState state = new LoraState(base, LoraAdapter.create(base.config(), 8, 16, 0, targets, new Random(seed)));
 * }</pre>
 */
public final class LoraState implements TrainableState {
    private final Model base;
    private final LoraAdapter adapter;
    private final Model model;
    private final Gradients gradients;
    private final List<AdamW.Parameter> parameters = new ArrayList<>();

    public LoraState(Model base, LoraAdapter adapter) {
        this.base = base;
        this.adapter = adapter;
        List<LoraAdapter> all = new ArrayList<>(base.adapters());
        all.add(adapter);
        this.model = base.withAdapters(all);
        this.gradients = Gradients.adapter(adapter);
        for (int l = 0; l < base.config().layers(); l++) {
            for (Target t : Target.values()) {
                if (!adapter.has(l, t)) continue;
                parameters.add(new AdamW.Parameter(PeftAdapter.key(l, t, false), adapter.a(l, t), gradients.loraA(l, t), true));
                parameters.add(new AdamW.Parameter(PeftAdapter.key(l, t, true), adapter.b(l, t), gradients.loraB(l, t), true));
            }
        }
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    @Override
    public Model model() {
        return model;
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
        // The forward reads the factors themselves: nothing to copy.
    }

    @Override
    public void save(Path checkpoint) {
        PeftAdapter.write(adapter, checkpoint.resolve("adapter"), base.directory().toAbsolutePath().toString());
    }

    @Override
    public void load(Path checkpoint) {
        LoraAdapter saved = PeftAdapter.read(checkpoint.resolve("adapter"), base);
        for (int l = 0; l < base.config().layers(); l++) {
            for (Target t : Target.values()) {
                if (adapter.has(l, t) != saved.has(l, t)) {
                    throw new dev.vane.core.InvalidInputException(checkpoint, "the saved adapter targets other modules");
                }
                if (!adapter.has(l, t)) continue;
                adapter.setA(l, t, saved.a(l, t));
                adapter.setB(l, t, saved.b(l, t));
            }
        }
    }

    @Override
    public void export(Path out) {
        PeftAdapter.write(adapter, out, base.directory().toAbsolutePath().toString());
    }

    @Override
    public long parameterCount() {
        return adapter.parameterCount();
    }

    @Override
    public void close() {
        // The base model belongs to the caller.
    }
}
