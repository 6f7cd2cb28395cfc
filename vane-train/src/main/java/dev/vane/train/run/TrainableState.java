package dev.vane.train.run;

import dev.vane.core.model.Model;
import dev.vane.train.grad.Gradients;
import dev.vane.train.optim.AdamW;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What a training run changes: a LoRA adapter on frozen weights ({@link LoraState}) or every weight as
 * float32 masters ({@link FullState}). Each knows its model view, its gradients, how to save itself into a
 * checkpoint and how to write the final result.
 */
public sealed interface TrainableState extends AutoCloseable permits LoraState, FullState {
    /** The model that computes with the current values. */
    Model model();

    /** The gradient accumulators, one per parameter, pre-allocated. */
    Gradients gradients();

    /** The optimiser's view: each parameter with its gradient accumulator. */
    List<AdamW.Parameter> parameters();

    /** Makes the model see values the optimiser just changed. */
    void publish();

    /** Writes the current values into a checkpoint directory. */
    void save(Path checkpoint) throws IOException;

    /** Restores values saved by {@link #save} (validated: names and sizes must match). */
    void load(Path checkpoint);

    /** Writes the result: a PEFT adapter directory or a Hugging Face checkpoint in the original dtypes. */
    void export(Path out) throws IOException;

    /** Number of trainable values. */
    long parameterCount();

    @Override
    void close();
}
