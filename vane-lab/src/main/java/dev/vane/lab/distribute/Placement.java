package dev.vane.lab.distribute;

/**
 * Where a job's work items run, and how a JVM there loads the job's model: the local executor needs no model
 * setup (it works with the model already loaded), a cluster's executors load {@code model} themselves.
 *
 * <pre>{@code
 * Placement p = new Placement(WorkExecutor.cluster("local[2]", Map.of(), "vane attack prefill"),
 *         new ModelSetup(Path.of("models/organism-chat"), List.of()));
 * AttackRun.run(attack, generator, tokenizer, judge, Steering.none(), 16, run, listener, p);
 * }</pre>
 *
 * @param executor where the tasks run
 * @param model    how a JVM loads the model (may be null for the local executor)
 */
public record Placement(WorkExecutor executor, ModelSetup model) {
    /** This JVM. */
    public static Placement local() {
        return new Placement(WorkExecutor.local(), null);
    }

    /** The model setup, which work that leaves this JVM needs. */
    public ModelSetup requireModel() {
        if (model == null) throw new IllegalStateException("work for " + executor.describe() + " needs a model setup");
        return model;
    }
}
