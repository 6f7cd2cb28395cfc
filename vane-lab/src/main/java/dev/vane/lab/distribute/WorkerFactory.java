package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Builds a job's {@link Worker} from the job's setup, in whatever JVM its tasks run: an executor on another machine
 * finds the factory by class name, so an implementation is a public class with a public no-argument constructor.
 * The setup names everything the worker needs (the model's directory, the steering with its vectors inside, the
 * judge, the calibrated degenerate rule); the model is loaded through {@link ModelSetup#load()}, once per JVM.
 *
 * <pre>{@code
 * public static final class Factory implements WorkerFactory {
 *     public Worker create(JsonNode setup) {
 *         LoadedModel m = ModelSetup.fromJson(setup.get("model")).load();
 *         return new MyWorker(m.model(), m.tokenizer());
 *     }
 * }
 * }</pre>
 */
public interface WorkerFactory {
    /** The worker of a job whose setup is {@code setup}. */
    Worker create(JsonNode setup);
}
