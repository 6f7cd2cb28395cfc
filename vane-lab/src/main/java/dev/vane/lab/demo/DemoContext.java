package dev.vane.lab.demo;

import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;

import dev.vane.lab.distribute.ModelSetup;
import dev.vane.lab.distribute.Placement;
import dev.vane.lab.distribute.WorkExecutor;

import java.nio.file.Path;
import java.util.List;

/**
 * What every step of the demo works on: the chat model (loaded once for all steps), the base model and the
 * deep-aligned twin when there is one (each loaded only when a step asks for it), the data files and the sizes.
 * Closing the context closes whatever it loaded.
 *
 * <pre>{@code
 * try (DemoContext ctx = new DemoContext(Path.of("models/organism-chat"), Path.of("models/organism-base"),
 *         DemoInputs.inDirectory(Path.of("models/organism-data")), DemoSizes.quick())) {
 *     ctx.model().config().layers();
 * }
 * }</pre>
 */
public final class DemoContext implements AutoCloseable {
    private final Path modelDir;
    private final Path baseDir;
    private final DemoInputs inputs;
    private final DemoSizes sizes;
    private final WorkExecutor executor;
    private Model model;
    private Tokenizer tokenizer;
    private Model base;
    private Tokenizer baseTokenizer;
    private final Path deepDir;
    private Model deep;
    private Tokenizer deepTokenizer;

    public DemoContext(Path modelDir, Path baseDir, DemoInputs inputs, DemoSizes sizes) {
        this(modelDir, baseDir, null, inputs, sizes, WorkExecutor.local());
    }

    /**
     * With {@code deepDir} the deep-aligned twin of the chat model (null: none), and the steps handing their work items
     * to {@code executor} where they can (a cluster: {@code --spark}).
     */
    public DemoContext(Path modelDir, Path baseDir, Path deepDir, DemoInputs inputs, DemoSizes sizes, WorkExecutor executor) {
        this.modelDir = modelDir;
        this.baseDir = baseDir;
        this.deepDir = deepDir;
        this.inputs = inputs;
        this.sizes = sizes;
        this.executor = executor;
    }

    /** Where the chat model's work items run: the executor, whose JVMs load the chat model from its directory. */
    public Placement placement() {
        return new Placement(executor, new ModelSetup(modelDir, List.of()));
    }

    /** Where the deep twin's work items run: the executor, whose JVMs load the twin from its directory. */
    public Placement deepPlacement() {
        if (deepDir == null) throw new IllegalStateException("the demo has no deep-aligned model");
        return new Placement(executor, new ModelSetup(deepDir, List.of()));
    }

    /** The deep-aligned twin's directory, absolute; null when the demo has none. */
    public String deepPath() {
        return deepDir == null ? null : deepDir.toAbsolutePath().normalize().toString();
    }

    /** The deep-aligned twin, loaded on first use. */
    public synchronized Model deep() {
        if (deepDir == null) throw new IllegalStateException("the demo has no deep-aligned model");
        if (deep == null) deep = Model.load(deepDir);
        return deep;
    }

    /** The deep-aligned twin's tokenizer. */
    public synchronized Tokenizer deepTokenizer() {
        if (deepDir == null) throw new IllegalStateException("the demo has no deep-aligned model");
        if (deepTokenizer == null) deepTokenizer = Tokenizer.load(deepDir);
        return deepTokenizer;
    }

    /** The chat (aligned) model, loaded on first use. */
    public synchronized Model model() {
        if (model == null) model = Model.load(modelDir);
        return model;
    }

    /** The chat model's tokenizer and chat template. */
    public synchronized Tokenizer tokenizer() {
        if (tokenizer == null) tokenizer = Tokenizer.load(modelDir);
        return tokenizer;
    }

    /** The base (unaligned) model, loaded on first use. */
    public synchronized Model base() {
        if (base == null) base = Model.load(baseDir);
        return base;
    }

    /** The base model's tokenizer. */
    public synchronized Tokenizer baseTokenizer() {
        if (baseTokenizer == null) baseTokenizer = Tokenizer.load(baseDir);
        return baseTokenizer;
    }

    /** The chat model's directory, absolute, as recorded in configs. */
    public String modelPath() {
        return modelDir.toAbsolutePath().normalize().toString();
    }

    /** The base model's directory, absolute. */
    public String basePath() {
        return baseDir.toAbsolutePath().normalize().toString();
    }

    /** The chat model's short name (its folder), for sentences. */
    public String modelName() {
        return modelDir.toAbsolutePath().normalize().getFileName().toString();
    }

    /** The base model's short name. */
    public String baseName() {
        return baseDir.toAbsolutePath().normalize().getFileName().toString();
    }

    public DemoInputs inputs() {
        return inputs;
    }

    public DemoSizes sizes() {
        return sizes;
    }

    @Override
    public synchronized void close() {
        if (tokenizer != null) tokenizer.close();
        if (model != null) model.close();
        if (baseTokenizer != null) baseTokenizer.close();
        if (base != null) base.close();
        if (deepTokenizer != null) deepTokenizer.close();
        if (deep != null) deep.close();
    }
}
