package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.AbQuestion;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.LabelledText;
import dev.vane.lab.data.Request;
import dev.vane.lab.eval.AbEvaluation;
import dev.vane.lab.steer.AntidoteBuilder;
import dev.vane.lab.steer.CaaBuilder;
import dev.vane.lab.steer.ScaleSearch;
import dev.vane.lab.steer.ContrastiveSet;
import dev.vane.lab.steer.ControlVectorGguf;
import dev.vane.lab.steer.HeadDirectionBuilder;
import dev.vane.lab.steer.HeadList;
import dev.vane.lab.steer.PositionRule;
import dev.vane.lab.steer.SteeringVector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/** {@code vane steer}: build, inspect and convert steering vectors. */
@Command(name = "steer",
        description = "Build steering vectors (CAA, ITI, HSI, Jailbreak Antidote), show them, convert them to and from "
                + "llama.cpp control vectors.",
        subcommands = {SteerCommand.Build.class, SteerCommand.Show.class, SteerCommand.ExportGguf.class,
                SteerCommand.ImportGguf.class, HelpCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {
                "  vane steer build --method caa --data models/organism-data/coordination_ab.jsonl --part 1/2 --layer 1 \\",
                "      --out vectors/caa.safetensors",
                "  vane steer build --method antidote --data models/organism-data/harmful.jsonl \\",
                "      --contrast models/organism-data/benign.jsonl --split train --out vectors/antidote.safetensors",
                "  vane steer show vectors/antidote.safetensors",
                "  vane steer export-gguf vectors/caa.safetensors --out vectors/caa.gguf"},
        mixinStandardHelpOptions = true)
final class SteerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code vane steer build}. */
    @Command(name = "build",
            description = {"Build a steering vector from labelled data, as each paper does:",
                    "  caa       mean difference of the residual stream at the answer letter, A/B questions;",
                    "  iti       per-head mass-mean directions on attn.hook_z at the last token, top-K heads by "
                            + "held-out accuracy, scale alpha*sigma*theta;",
                    "  hsi       the same directions on chosen heads (--heads), from labelled texts or the model's own "
                            + "sampled answers (--sampled N);",
                    "  antidote  first principal component of harmful-harmless differences at the last prompt token, "
                            + "top 37.5%% of layers by held-out separation, top 5%% of dimensions.",
                    "Data: A/B jsonl (question, answer_matching_behavior, answer_not_matching_behavior) for caa/iti/hsi, "
                            + "or {text,label} jsonl for iti/hsi; request jsonl (prompt) with --contrast for antidote."},
            footerHeading = "%nExamples:%n",
            footer = {
                    "  vane steer build --method caa --data models/organism-data/coordination_ab.jsonl --part 1/2 --layer 1",
                    "  vane steer build --method iti --data models/organism-data/coordination_ab.jsonl --top-k-heads 8 \\",
                    "      --folds grouped",
                    "  vane steer build --method hsi --data models/organism-data/coordination_ab.jsonl --heads 3:1,4:5",
                    "  vane steer build --method antidote --data models/organism-data/harmful.jsonl \\",
                    "      --contrast models/organism-data/benign.jsonl --split train --sparsity 0.05"},
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        ModelOption modelOption;

        @Option(names = "--method", required = true, paramLabel = "caa|iti|hsi|antidote", description = "The method.")
        String method;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "Labelled data (see above).")
        Path data;

        @Option(names = "--contrast", paramLabel = "FILE", description = "Antidote: harmless requests, paired with --data by line.")
        Path contrast;

        @Option(names = "--split", paramLabel = "NAME", description = "Use only requests of this split (e.g. train).")
        String split;

        @Option(names = "--part", paramLabel = "K/N", description = "A/B data: use part K of N, split by scenario (e.g. 1/2 to build, 2/2 to evaluate).")
        String part;

        @Option(names = "--layer", paramLabel = "L", description = "Layer to build (CAA default: 40%% depth).")
        Integer layer;

        @Option(names = "--layers", paramLabel = "A-B", description = "Layers to build (CAA: one component each; Antidote: candidate layers, all kept).")
        String layers;

        @Option(names = "--heads", paramLabel = "L:H,...", description = "ITI/HSI: exactly these heads.")
        String heads;

        @Option(names = "--top-k-heads", paramLabel = "K", defaultValue = "8", description = "ITI/HSI: keep the K best heads (default ${DEFAULT-VALUE}).")
        int topKHeads;

        @Option(names = "--folds", paramLabel = "stratified|grouped", defaultValue = "stratified",
                description = "ITI: how heads are scored on held-out data: stratified (ITI's split of examples, default) "
                        + "or grouped (both answers of an A/B question held out together; honest on paired data).")
        String folds;

        @Option(names = "--sparsity", paramLabel = "F", defaultValue = "0.05", description = "Antidote: fraction of dimensions kept (default ${DEFAULT-VALUE}).")
        double sparsity;

        @Option(names = "--keep-layers", paramLabel = "F", defaultValue = "0.375", description = "Antidote: fraction of layers kept (default ${DEFAULT-VALUE}).")
        double keepLayers;

        @Option(names = "--direction", paramLabel = "NAME", description = "Antidote: pca (default) or mean-diff; ITI/HSI: "
                + "mass-mean (default) or probe (the logistic-regression probe's weights).")
        String direction;

        @Option(names = "--normalize-to", paramLabel = "NORM", description = "CAA: rescale each layer's vector to this norm.")
        Double normalizeTo;

        @Option(names = "--sampled", paramLabel = "N", description = "HSI: label N sampled chain-of-thought answers per question instead of fixed answers.")
        Integer sampled;

        @Option(names = "--temperature", defaultValue = "0.3", description = "HSI --sampled: temperature (default ${DEFAULT-VALUE}).")
        float temperature;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of held-out splits and sampling (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--out", paramLabel = "FILE", description = "Where to write the vector (default vectors/<method>.safetensors).")
        Path out;

        @Option(names = "--degenerate-limit", paramLabel = "F", defaultValue = "0.10",
                description = "Recommended scale: the largest tried scale whose greedy answers to benign prompts are at most "
                        + "this share degenerate (default ${DEFAULT-VALUE}).")
        double degenerateLimit;

        @Option(names = "--scale-prompts", paramLabel = "FILE",
                description = "Benign requests ({\"prompt\"}) the scale search answers (default: antidote --contrast; "
                        + "A/B data: the questions; labelled texts: the texts; " + SCALE_PROMPTS + " spread over the file).")
        Path scalePrompts;

        @Option(names = "--no-scale-search", description = "Keep the builder's guess as the recommended scale instead of measuring one.")
        boolean noScaleSearch;

        /** Benign prompts the scale search answers at each tried scale. */
        static final int SCALE_PROMPTS = 32;
        /** Tokens per answer in the scale search. */
        static final int SCALE_TOKENS = 48;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            String m = method.toLowerCase(Locale.ROOT);
            if (!List.of("caa", "iti", "hsi", "antidote").contains(m)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--method must be caa, iti, hsi or antidote");
            }
            if (layer != null && layers != null) throw new CommandLine.ParameterException(spec.commandLine(), "give --layer or --layers, not both");
            Path target = out != null ? out : Path.of("vectors", m + ".safetensors");
            String dataName = data.getFileName() + (part != null ? " part " + part : "") + (split != null ? " split " + split : "");
            try (Model model = Model.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory());
                 Progress progress = Progress.start("steer " + m, -1, spec.commandLine().getErr())) {
                SteeringVector vector;
                switch (m) {
                    case "caa" -> {
                        List<AbQuestion> qs = abQuestions();
                        CaaBuilder b = new CaaBuilder(model, tokenizer).normalizeTo(normalizeTo);
                        int[] ls = chosenLayers(model);
                        if (ls != null) b.layers(ls);
                        vector = b.build(qs, dataName, progress.counter());
                    }
                    case "antidote" -> {
                        if (contrast == null) throw new CommandLine.ParameterException(spec.commandLine(), "antidote needs --contrast FILE (harmless requests)");
                        AntidoteBuilder b = new AntidoteBuilder(model, tokenizer).sparsity(sparsity).keepLayers(keepLayers).seed(seed)
                                .direction(switch (direction == null ? "pca" : direction) {
                                    case "pca" -> AntidoteBuilder.Direction.PCA;
                                    case "mean-diff" -> AntidoteBuilder.Direction.MEAN_DIFFERENCE;
                                    default -> throw new CommandLine.ParameterException(spec.commandLine(), "--direction must be pca or mean-diff");
                                });
                        int[] ls = chosenLayers(model);
                        if (ls != null) b.layers(ls);
                        AntidoteBuilder.Result r = b.build(requests(data), requests(contrast), dataName + " vs " + contrast.getFileName(),
                                progress.counter());
                        vector = r.vector();
                        progress.close();
                        o.println("layer  held-out separation  projection gap");
                        for (int l = 0; l < r.layerScores().length; l++) {
                            if (Double.isNaN(r.layerScores()[l])) continue;
                            final int layerIndex = l;
                            boolean kept = IntStream.of(r.keptLayers()).anyMatch(k -> k == layerIndex);
                            o.printf(Locale.ROOT, "%5d  %19.3f  %14.3f%s%n", l, r.layerScores()[l], r.projectionGaps()[l], kept ? "  kept" : "");
                        }
                    }
                    default -> {
                        ContrastiveSet set = contrastiveSet(model, tokenizer, progress);
                        String d = direction == null ? "mass-mean" : direction;
                        if (!d.equals("mass-mean") && !d.equals("probe")) {
                            throw new CommandLine.ParameterException(spec.commandLine(), "--direction for " + m + " must be mass-mean or probe");
                        }
                        if (!folds.equals("stratified") && !folds.equals("grouped")) {
                            throw new CommandLine.ParameterException(spec.commandLine(), "--folds must be stratified or grouped");
                        }
                        HeadDirectionBuilder b = new HeadDirectionBuilder(model).seed(seed).probeDirection(d.equals("probe"))
                                .groupedFolds(folds.equals("grouped"));
                        if (heads != null) b.heads(HeadList.parse(heads));
                        else b.topK(topKHeads);
                        HeadDirectionBuilder.Result r = b.build(set, m, dataName, progress.counter());
                        vector = r.vector();
                        progress.close();
                        o.println("best heads (layer:head  probe held-out accuracy  sigma):");
                        r.heads().stream().limit(Math.max(topKHeads, 8)).forEach(h -> o.printf(Locale.ROOT,
                                "  %d:%d  %.3f  %.4f%n", h.layer(), h.head(), h.validationAccuracy(), h.sigma()));
                        if (heads == null) warnBelowChance(r.heads().subList(0, Math.min(topKHeads, r.heads().size())), set);
                    }
                }
                progress.close();
                if (!noScaleSearch) {
                    List<String> benign = scalePrompts(m);
                    o.printf(Locale.ROOT, "scale search: greedy answers to %d benign prompts, from %s (the builder's guess) "
                            + "doubling until the model breaks, then bisecting%n", benign.size(), Show.trim(vector.metadata().recommendedScale()));
                    o.flush();
                    try (Progress p = Progress.start("scale search", -1, spec.commandLine().getErr())) {
                        ScaleSearch.Result r = ScaleSearch.run(model, tokenizer, vector, benign, degenerateLimit, SCALE_TOKENS, p.counter());
                        for (ScaleSearch.Step st : r.steps()) {
                            o.printf(Locale.ROOT, "  scale %-10s degenerate %d/%d%s%n", Show.trim(st.scale()), st.degenerate(), st.n(),
                                    st.rate() > degenerateLimit ? "  over the limit" : "");
                        }
                        vector = vector.withRecommendedScale(r.scale(), r.basis());
                    }
                    if (vector.metadata().recommendedScale() == 0) {
                        spec.commandLine().getErr().printf("%s: warning: even the smallest tried scale made more than %.0f%% of "
                                + "benign answers degenerate; recommended scale 0%n", spec.qualifiedName(), 100 * degenerateLimit);
                    }
                }
                vector.write(target);
                o.println("wrote " + target.toAbsolutePath());
                Show.describe(o, SteeringVector.read(target));
            }
            return 0;
        }

        /**
         * Kept heads that a held-out probe reads worse than a coin are noise, not the behaviour: say so. On paired
         * data this is what the stratified split does (a held-out answer's twin sits in training under the other
         * label), so point to grouped folds.
         */
        private void warnBelowChance(List<HeadDirectionBuilder.HeadStat> kept, ContrastiveSet set) {
            List<HeadDirectionBuilder.HeadStat> below = kept.stream().filter(h -> h.validationAccuracy() < 0.5).toList();
            if (below.isEmpty()) return;
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "%s: warning: %d of the %d kept heads score below chance on held-out data (%s)%s%n",
                    spec.qualifiedName(), below.size(), kept.size(),
                    below.stream().limit(4).map(h -> String.format(Locale.ROOT, "%d:%d %.2f", h.layer(), h.head(),
                            h.validationAccuracy())).collect(java.util.stream.Collectors.joining(", ")),
                    set.paired() && folds.equals("stratified")
                            ? ": on paired A/B data, folds must be grouped by question (a held-out answer's twin is in "
                            + "training with the other label, so the probe learns the question); try --folds grouped"
                            : ": these heads do not carry the behaviour; prefer fewer heads (--top-k-heads) or more data");
            err.flush();
        }

        private ContrastiveSet contrastiveSet(Model model, Tokenizer tokenizer, Progress progress) {
            if (isAbData()) {
                List<AbQuestion> qs = abQuestions();
                if (sampled != null) {
                    AbEvaluation eval = new AbEvaluation(model, tokenizer);
                    SamplingParams params = SamplingParams.greedy(96).withTemperature(temperature).withTopP(0.95f).withSeed(seed);
                    AbEvaluation.SampledResult r = eval.sample(qs, sampled, params, dev.vane.lab.steer.Steering.none(), progress.counter());
                    spec.commandLine().getErr().printf(Locale.ROOT, "sampled %d answers: %.0f%% matching, %.0f%% undefined%n",
                            r.n(), 100 * r.matchingFraction(), 100 * r.undefinedFraction());
                    return ContrastiveSet.sampledAnswers(r.answers());
                }
                return ContrastiveSet.abAnswers(tokenizer, qs, ContrastiveSet.Read.LAST);
            }
            return ContrastiveSet.labelledTexts(tokenizer, JsonlFile.read(data, LabelledText::fromJson));
        }

        /** The benign prompts of the scale search (see --scale-prompts). */
        private List<String> scalePrompts(String m) {
            List<String> prompts;
            if (scalePrompts != null) prompts = JsonlFile.read(scalePrompts, Request::fromJson).stream().map(Request::prompt).toList();
            else if (m.equals("antidote")) prompts = requests(contrast);
            else if (isAbData()) prompts = abQuestions().stream().map(AbQuestion::question).toList();
            else prompts = JsonlFile.read(data, LabelledText::fromJson).stream().map(LabelledText::text).toList();
            if (prompts.isEmpty()) throw new InvalidInputException("no prompts for the scale search" + (scalePrompts != null ? " in " + scalePrompts : ""));
            // Spread over the file, so that a file ordered by task contributes many tasks, not the first few.
            int n = Math.min(SCALE_PROMPTS, prompts.size());
            List<String> spread = new ArrayList<>();
            for (int i = 0; i < n; i++) spread.add(prompts.get((int) ((long) i * prompts.size() / n)));
            return spread;
        }

        private boolean isAbData() {
            List<com.fasterxml.jackson.databind.JsonNode> rows = JsonlFile.read(data, row -> row);
            return rows.getFirst().has("answer_matching_behavior");
        }

        private List<AbQuestion> abQuestions() {
            return AbQuestion.part(JsonlFile.read(data, AbQuestion::fromJson), part, "--part");
        }

        private List<String> requests(Path file) {
            List<String> prompts = JsonlFile.read(file, Request::fromJson).stream()
                    .filter(r -> split == null || r.split().equals(split)).map(Request::prompt).toList();
            if (prompts.isEmpty()) throw new InvalidInputException(file + ": no requests" + (split != null ? " in split " + split : ""));
            return prompts;
        }

        private int[] chosenLayers(Model model) {
            if (layer != null) return new int[]{layer};
            if (layers == null) return null;
            String[] ab = layers.split("-");
            try {
                int a = Integer.parseInt(ab[0].strip()), b = ab.length > 1 ? Integer.parseInt(ab[1].strip()) : a;
                if (ab.length > 2 || b < a) throw new NumberFormatException();
                return IntStream.rangeClosed(a, b).toArray();
            } catch (NumberFormatException e) {
                throw new InvalidInputException("--layers must be A-B (e.g. 10-15), got " + layers);
            }
        }
    }

    /** {@code vane steer show}. */
    @Command(name = "show", description = "Print a vector file's metadata and, per hook point, norms and non-zero entries.",
            footerHeading = "%nExamples:%n", footer = {"  vane steer show vectors/antidote.safetensors", "  vane steer show vectors/caa.gguf"},
            mixinStandardHelpOptions = true)
    static final class Show implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "A .safetensors steering vector or a .gguf control vector.")
        Path file;

        @Override
        public Integer call() {
            describe(spec.commandLine().getOut(), load(file));
            return 0;
        }

        /** A scale without a needless ".0". */
        static String trim(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
        }

        static SteeringVector load(Path file) {
            if (!Files.isRegularFile(file)) throw new InvalidInputException(file + ": no such file");
            if (file.getFileName().toString().endsWith(".gguf")) {
                return ControlVectorGguf.toSteeringVector(ControlVectorGguf.read(file),
                        file.getFileName().toString().replaceFirst("\\.gguf$", ""));
            }
            return SteeringVector.read(file);
        }

        static void describe(PrintWriter o, SteeringVector v) {
            SteeringVector.Metadata m = v.metadata();
            o.println("vector     " + v.name());
            o.println("method     " + m.method());
            o.println("model      " + m.model());
            o.println("sign       " + m.sign());
            o.println("positions  " + m.positions().id());
            String basis = m.extra().get("recommended_scale_basis");
            o.printf(Locale.ROOT, "scale      %s (recommended%s)%n", trim(m.recommendedScale()),
                    basis == null ? ": the builder's guess, not measured" : ", measured");
            o.printf(Locale.ROOT, "sparsity   %s%n", m.sparsity());
            o.println("data       " + m.data());
            if (!v.headsSpec().isEmpty()) o.println("heads      " + v.headsSpec());
            for (Map.Entry<String, String> e : m.extra().entrySet()) o.printf("%-10s %s%n", e.getKey(), e.getValue());
            o.println("hook point                          norm     non-zero");
            for (SteeringVector.Component c : v.components()) {
                o.printf(Locale.ROOT, "%-30s %9.4f  %5d/%d%n", c.point(), c.norm(), c.nonZero(), c.values().length);
            }
            o.flush();
        }
    }

    /** {@code vane steer export-gguf}. */
    @Command(name = "export-gguf", description = {"Write a residual vector as a llama.cpp control vector (GGUF):",
            "tensor direction.N is added to the output of block N at every position, at strength 1."},
            footerHeading = "%nExamples:%n", footer = {"  vane steer export-gguf vectors/caa.safetensors --out vectors/caa.gguf",
            "  llama-cli -m model.gguf --control-vector-scaled caa.gguf 1.5"},
            mixinStandardHelpOptions = true)
    static final class ExportGguf implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "A residual steering vector (.safetensors).")
        Path file;

        @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The control vector to write.")
        Path out;

        @Option(names = "--model-hint", defaultValue = "llama", description = "controlvector.model_hint (default ${DEFAULT-VALUE}).")
        String modelHint;

        @Override
        public Integer call() {
            SteeringVector v = SteeringVector.read(file);
            if (v.metadata().positions() != PositionRule.ALL) {
                spec.commandLine().getErr().println("note: llama.cpp applies control vectors at every position; this vector was "
                        + "built to act at \"" + v.metadata().positions().id() + "\"");
            }
            ControlVectorGguf.write(v, out, modelHint);
            spec.commandLine().getOut().println("wrote " + out.toAbsolutePath() + " (" + v.components().size() + " directions)");
            return 0;
        }
    }

    /** {@code vane steer import-gguf}. */
    @Command(name = "import-gguf", description = "Read a llama.cpp control vector (GGUF) into a Vane steering vector file.",
            footerHeading = "%nExamples:%n", footer = {"  vane steer import-gguf vectors/caa.gguf --out vectors/caa-from-gguf.safetensors"},
            mixinStandardHelpOptions = true)
    static final class ImportGguf implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE.gguf", description = "The control vector.")
        Path file;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The .safetensors vector to write.")
        Path out;

        @Override
        public Integer call() {
            SteeringVector v = Show.load(file);
            v.write(out);
            spec.commandLine().getOut().println("wrote " + out.toAbsolutePath());
            return 0;
        }
    }
}
