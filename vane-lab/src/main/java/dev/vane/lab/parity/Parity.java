package dev.vane.lab.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.Sampler;
import dev.vane.core.hook.ActivationCache;
import dev.vane.core.hook.HookPoint;
import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import dev.vane.core.model.TrainingTape;
import dev.vane.core.safetensors.SafetensorsFile;
import dev.vane.core.tensor.FloatTensor;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.kl.TokenKl;
import dev.vane.train.grad.Backward;
import dev.vane.train.grad.CrossEntropy;
import dev.vane.train.grad.Gradients;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Checks Vane against what Hugging Face transformers computed for the same checkpoint: a {@code reference.json}
 * describing the runs and a {@code reference.safetensors} holding the results (format: docs/reference-format.md).
 *
 * <pre>{@code
 * ParityReport report = Parity.run(Path.of("fixtures/hf/gemma2"), null);   // DIR/reference.json
 * report.cases().forEach(c -> System.out.println(c.name() + " " + c.status()));
 * }</pre>
 *
 * <p>Each compared tensor passes when max |vane - reference| <= 1e-3 x max(1, max |reference|): float
 * accumulation order only, while a real mistake (a wrong RoPE, a missing norm) is orders of magnitude larger.
 */
public final class Parity {
    /** Relative tolerance per tensor. */
    public static final double TOLERANCE = 1e-3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final JsonNode reference;
    private final SafetensorsFile expected;
    private final Path modelDir;
    private final int[][] sequences;

    private Parity(Model model, JsonNode reference, SafetensorsFile expected, Path modelDir) {
        this.model = model;
        this.reference = reference;
        this.expected = expected;
        this.modelDir = modelDir;
        this.sequences = readSequences(reference.get("sequences"));
    }

    /**
     * Runs every case. {@code referenceJson} null means {@code modelDir/reference.json}; the tensors are read
     * from the {@code .safetensors} file of the same name beside it.
     */
    public static ParityReport run(Path modelDir, Path referenceJson) {
        return run(modelDir, referenceJson, name -> { });
    }

    /** As {@link #run(Path, Path)}, calling {@code progress} with each case's name before it runs. */
    public static ParityReport run(Path modelDir, Path referenceJson, Consumer<String> progress) {
        if (!Files.isDirectory(modelDir)) {
            throw new InvalidInputException(modelDir, "not a model directory");
        }
        Path json = referenceJson != null ? referenceJson : modelDir.resolve("reference.json");
        if (!Files.isRegularFile(json)) {
            throw new InvalidInputException(json, "reference file not found (give one with --reference)");
        }
        String base = json.getFileName().toString().replaceFirst("\\.json$", "");
        Path tensors = json.resolveSibling(base + ".safetensors");
        if (!Files.isRegularFile(tensors)) {
            throw new InvalidInputException(tensors, "reference tensors not found (expected beside " + json.getFileName() + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(json, "not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject() || !root.path("sequences").isArray()) {
            throw new InvalidInputException(json, "not a reference file: needs a 'sequences' array");
        }
        try (Model model = Model.load(modelDir); SafetensorsFile expected = SafetensorsFile.open(tensors)) {
            Parity parity = new Parity(model, root, expected, modelDir);
            List<CaseResult> cases = new ArrayList<>();
            for (int i = 0; i < parity.sequences.length; i++) {
                progress.accept("seq" + i);
                cases.add(parity.activations(i));
            }
            JsonNode c = root.path("cases");
            parity.runCase(cases, progress, c, "steer_resid", parity::steerResid);
            parity.runCase(cases, progress, c, "steer_head", parity::steerHead);
            parity.runCase(cases, progress, c, "ablate_head", parity::ablateHead);
            parity.runCase(cases, progress, c, "patch", parity::patch);
            parity.runCase(cases, progress, c, "batch_leftpad", parity::batchLeftPad);
            parity.runCase(cases, progress, c, "kl", parity::kl);
            parity.runCase(cases, progress, c, "greedy", parity::greedy);
            parity.runCase(cases, progress, c, "greedy_steered", parity::greedy);
            parity.runCase(cases, progress, c, "grad", parity::grad);
            if (root.has("tokenization") || root.has("chat_templates")) {
                if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
                    String reason = "no tokenizer.json in the model directory";
                    if (root.has("tokenization")) cases.add(CaseResult.skipped("tokenization", reason));
                    if (root.has("chat_templates")) cases.add(CaseResult.skipped("chat_templates", reason));
                } else {
                    try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
                        if (root.has("tokenization")) {
                            progress.accept("tokenization");
                            cases.add(TextCases.tokenization(tokenizer, root.get("tokenization")));
                        }
                        if (root.has("chat_templates")) {
                            progress.accept("chat_templates");
                            cases.add(TextCases.chatTemplates(tokenizer, root.get("chat_templates")));
                        }
                    }
                }
            }
            return new ParityReport(modelDir, json, cases);
        }
    }

    private interface CaseRunner {
        CaseResult run(String name, JsonNode spec);
    }

    private void runCase(List<CaseResult> cases, Consumer<String> progress, JsonNode all, String name, CaseRunner runner) {
        if (!all.has(name)) return;
        progress.accept(name);
        cases.add(runner.run(name, all.get(name)));
    }

    // ---- cases -------------------------------------------------------------------------------------------

    /** Every hook the reference holds for sequence i, plus its logits. */
    private CaseResult activations(int i) {
        String prefix = "seq" + i + ".";
        TreeSet<String> hookNames = new TreeSet<>();
        for (String name : expected.names()) {
            if (name.startsWith(prefix) && !name.equals(prefix + "logits")) hookNames.add(name.substring(prefix.length()));
        }
        ActivationCache cache = new ActivationCache();
        Hooks hooks = new Hooks();
        for (String hook : hookNames) {
            HookPoint.parse(hook);   // an unknown name in the reference is bad input
            hooks.cache(cache, hook);
        }
        ForwardResult out = model.forward(Batch.of(sequences[i]), hooks);
        Comparison cmp = new Comparison("seq" + i);
        for (String hook : hookNames) cmp.add(hook, cache.get(hook, 0), tensor(prefix + hook));
        cmp.add("logits", out.logits(0), tensor(prefix + "logits"));
        return cmp.result();
    }

    private CaseResult steerResid(String name, JsonNode spec) {
        Hooks hooks = new Hooks().add(text(spec, "hook"), tensor("vec.resid").data(), 1f, Positions.all());
        return logitsCase(name, sequence(spec), hooks);
    }

    private CaseResult steerHead(String name, JsonNode spec) {
        Hooks hooks = new Hooks().addToHeads(text(spec, "hook"), new int[]{integer(spec, "head")},
                tensor("vec.head").data(), 1f, Positions.all());
        return logitsCase(name, sequence(spec), hooks);
    }

    private CaseResult ablateHead(String name, JsonNode spec) {
        Hooks hooks = new Hooks().zero(text(spec, "hook"), new int[]{integer(spec, "head")}, Positions.all());
        return logitsCase(name, sequence(spec), hooks);
    }

    private CaseResult logitsCase(String name, int[] tokens, Hooks hooks) {
        Comparison cmp = new Comparison(name);
        cmp.add("logits", model.forward(Batch.of(tokens), hooks).logits(0), tensor("case." + name + ".logits"));
        return cmp.result();
    }

    /**
     * Gradients of the mean cross-entropy of the sequence's last four tokens (each predicted from the position
     * before it) with respect to inputs_embeds, the one-hot inputs and the named parameters.
     */
    private CaseResult grad(String name, JsonNode spec) {
        int[] tokens = sequence(spec);
        int n = tokens.length, scored = 4;
        if (n < scored + 1) throw bad("cases.grad: the sequence needs at least " + (scored + 1) + " tokens");
        List<String> params = new ArrayList<>();
        for (JsonNode p : spec.path("params")) params.add(p.asText());
        int[] positions = new int[scored], targets = new int[scored];
        float[] weights = new float[scored];
        for (int i = 0; i < scored; i++) {
            positions[i] = n - scored - 1 + i;
            targets[i] = tokens[n - scored + i];
            weights[i] = 1f;
        }
        TrainingTape tape = new TrainingTape(false, 0);
        model.forwardForTraining(Batch.of(tokens), new Hooks(), tape);
        Gradients g = Gradients.parameters(params::contains).withInputs();
        double loss = Backward.run(model, tape, positions, new CrossEntropy(targets, weights, scored), g);
        int d = model.config().dModel(), vocab = model.config().vocabSize();
        Comparison cmp = new Comparison(name);
        cmp.add("loss", new FloatTensor(new float[]{(float) loss}, 1), tensor("case.grad.loss"));
        cmp.add("d_inputs_embeds", new FloatTensor(g.inputsEmbeds(), n, d), tensor("case.grad.d_inputs_embeds"));
        // The reference defines d_onehot as d_inputs_embeds x E^T: for Gemma, whose inputs_embeds are already
        // scaled, that is the one-hot gradient divided by the constant sqrt(d_model) (Backward.oneHot has it).
        float[] onehot = new float[n * vocab];
        model.embedding().matmul(g.inputsEmbeds(), n, onehot);
        cmp.add("d_onehot", new FloatTensor(onehot, n, vocab), tensor("case.grad.d_onehot"));
        for (String param : params) {
            float[] actual = g.parameter(param);
            if (actual == null) throw bad("cases.grad: '" + param + "' is not a parameter of this model");
            FloatTensor expected = tensor("case.grad.param." + param);
            cmp.add(param, new FloatTensor(actual, expected.shape()), expected);
        }
        return cmp.result();
    }

    private CaseResult patch(String name, JsonNode spec) {
        String hook = text(spec, "hook");
        int position = integer(spec, "position");
        int[] clean = ids(spec.get("clean"), "cases.patch.clean");
        int[] corrupt = ids(spec.get("corrupt"), "cases.patch.corrupt");
        ActivationCache cleanCache = new ActivationCache();
        ForwardResult cleanRun = model.forward(Batch.of(clean), new Hooks().cache(cleanCache, hook));
        ForwardResult corruptRun = model.forward(Batch.of(corrupt), new Hooks());
        ForwardResult patched = model.forward(Batch.of(corrupt),
                new Hooks().patch(hook, null, Positions.at(position), cleanCache, Hooks.Alignment.START));
        Comparison cmp = new Comparison(name);
        cmp.add("clean_logits", cleanRun.logits(0), tensor("case.patch.clean_logits"));
        cmp.add("corrupt_logits", corruptRun.logits(0), tensor("case.patch.corrupt_logits"));
        cmp.add("patched_logits", patched.logits(0), tensor("case.patch.patched_logits"));
        return cmp.result();
    }

    /** Rows left-padded together; only real positions are compared (padding outputs are undefined). */
    private CaseResult batchLeftPad(String name, JsonNode spec) {
        JsonNode ids = spec.get("input_ids"), mask = spec.get("attention_mask");
        if (ids == null || mask == null || !ids.isArray() || ids.size() != mask.size()) {
            throw bad("cases.batch_leftpad needs input_ids and attention_mask of the same rows");
        }
        int[][] rows = new int[ids.size()][];
        int[] pads = new int[ids.size()];
        for (int r = 0; r < rows.length; r++) {
            int[] row = ids(ids.get(r), "input_ids");
            int[] m = ids(mask.get(r), "attention_mask");
            int pad = 0;
            while (pad < m.length && m[pad] == 0) pad++;
            pads[r] = pad;
            rows[r] = java.util.Arrays.copyOfRange(row, pad, row.length);
        }
        ForwardResult out = model.forward(Batch.of(rows), new Hooks());
        FloatTensor ref = tensor("case.batch_leftpad.logits");
        Comparison cmp = new Comparison(name);
        for (int r = 0; r < rows.length; r++) {
            FloatTensor refRow = ref.slice(r);
            int vocab = refRow.dim(1), n = rows[r].length;
            float[] real = java.util.Arrays.copyOfRange(refRow.data(), pads[r] * vocab, (pads[r] + n) * vocab);
            cmp.add("row" + r + ".logits", out.logits(r), new FloatTensor(real, n, vocab));
        }
        return cmp.result();
    }

    private CaseResult kl(String name, JsonNode spec) {
        String other = spec.path("other").asText(modelDir.getFileName() + "-perturbed");
        Path otherDir = modelDir.toAbsolutePath().resolveSibling(other);
        if (!Files.isDirectory(otherDir)) {
            return CaseResult.skipped(name, "no " + other + " beside the model to compare with");
        }
        int[] tokens = sequence(spec);
        FloatTensor mine = model.forward(Batch.of(tokens), new Hooks()).logits(0);
        FloatTensor theirs;
        try (Model perturbed = Model.load(otherDir)) {
            theirs = perturbed.forward(Batch.of(tokens), new Hooks()).logits(0);
        }
        double[] kl = TokenKl.perPosition(mine, theirs);
        float[] asFloat = new float[kl.length];
        for (int i = 0; i < kl.length; i++) asFloat[i] = (float) kl[i];
        Comparison cmp = new Comparison(name);
        cmp.add("per_token", new FloatTensor(asFloat, kl.length), tensor("case.kl.per_token"));
        return cmp.result();
    }

    /**
     * Greedy decoding through the KV cache, one token per call: the generated ids must match exactly and the
     * logits that chose them within tolerance. The steered variant adds vec.resid at its hook on every
     * position, prompt and generated.
     */
    private CaseResult greedy(String name, JsonNode spec) {
        int[] prompt = ids(spec.get("prompt"), "cases." + name + ".prompt");
        int[] want = ids(spec.get("generated"), "cases." + name + ".generated");
        Hooks hooks = spec.has("hook")
                ? new Hooks().add(text(spec, "hook"), tensor("vec.resid").data(), 1f, Positions.all())
                : new Hooks();
        KvCache kv = model.newCache(1, prompt.length + want.length);
        int vocab = model.config().vocabSize();
        float[] stepLogits = new float[want.length * vocab];
        int[] got = new int[want.length];
        float[] logits = model.forward(Batch.of(prompt), hooks, kv, LogitsMode.LAST).lastLogits(0);
        for (int step = 0; step < want.length; step++) {
            System.arraycopy(logits, 0, stepLogits, step * vocab, vocab);
            got[step] = Sampler.argmax(logits);
            if (step + 1 < want.length) {
                logits = model.forward(Batch.nextTokens(got[step]), hooks, kv, LogitsMode.LAST).lastLogits(0);
            }
        }
        Comparison cmp = new Comparison(name);
        cmp.add("step_logits", new FloatTensor(stepLogits, want.length, vocab), tensor("case." + name + ".step_logits"));
        CaseResult result = cmp.result();
        if (!java.util.Arrays.equals(got, want)) {
            return new CaseResult(name, result.maxAbsDiff(), result.tolerance(), CaseResult.Status.FAIL,
                    "generated " + java.util.Arrays.toString(got) + ", reference " + java.util.Arrays.toString(want));
        }
        return new CaseResult(name, result.maxAbsDiff(), result.tolerance(), result.status(),
                want.length + " tokens identical; " + result.detail());
    }

    // ---- reading the reference ---------------------------------------------------------------------------

    private FloatTensor tensor(String name) {
        if (!expected.contains(name)) {
            throw new InvalidInputException(expected.path(), "reference tensor '" + name + "' is missing");
        }
        return new FloatTensor(expected.readFloats(name), expected.info(name).intShape());
    }

    private int[] sequence(JsonNode spec) {
        int i = integer(spec, "sequence");
        if (i < 0 || i >= sequences.length) throw bad("case refers to sequence " + i + " of " + sequences.length);
        return sequences[i];
    }

    private static int[][] readSequences(JsonNode node) {
        int[][] out = new int[node.size()][];
        for (int i = 0; i < out.length; i++) out[i] = ids(node.get(i), "sequences[" + i + "]");
        return out;
    }

    private static int[] ids(JsonNode node, String what) {
        if (node == null || !node.isArray() || node.isEmpty()) throw bad(what + " must be a non-empty array of token ids");
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            if (!node.get(i).canConvertToInt()) throw bad(what + "[" + i + "] is not an integer");
            out[i] = node.get(i).asInt();
        }
        return out;
    }

    private static String text(JsonNode spec, String key) {
        if (!spec.path(key).isTextual()) throw bad("case field '" + key + "' is missing");
        return spec.get(key).asText();
    }

    private static int integer(JsonNode spec, String key) {
        if (!spec.path(key).canConvertToInt()) throw bad("case field '" + key + "' is missing or not an integer");
        return spec.get(key).asInt();
    }

    private static InvalidInputException bad(String message) {
        return new InvalidInputException("reference.json: " + message);
    }

    /** Collects tensor comparisons of one case and keeps the worst (largest diff / tolerance). */
    private static final class Comparison {
        private final String name;
        private int count;
        private double worstRatio = -1;
        private double worstDiff;
        private double worstTolerance;
        private String worstTensor = "";
        private String mismatch;

        Comparison(String name) {
            this.name = name;
        }

        void add(String tensor, FloatTensor actual, FloatTensor reference) {
            count++;
            if (actual.size() != reference.size()) {
                mismatch = tensor + " has " + actual.size() + " values, reference " + reference.size();
                return;
            }
            // Shapes may differ only in how heads are grouped ([pos, heads*d_head] vs [pos, heads, d_head]).
            FloatTensor flat = new FloatTensor(actual.data(), reference.shape());
            double diff = flat.maxAbsDiff(reference);
            double tolerance = TOLERANCE * Math.max(1, reference.maxAbs());
            double ratio = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff / tolerance;
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worstDiff = diff;
                worstTolerance = tolerance;
                worstTensor = tensor;
            }
        }

        CaseResult result() {
            if (mismatch != null) return new CaseResult(name, Double.NaN, Double.NaN, CaseResult.Status.FAIL, mismatch);
            boolean pass = worstRatio <= 1;
            String detail = count + (count == 1 ? " tensor" : " tensors") + ", worst " + worstTensor;
            return new CaseResult(name, worstDiff, worstTolerance, pass ? CaseResult.Status.PASS : CaseResult.Status.FAIL, detail);
        }
    }
}
