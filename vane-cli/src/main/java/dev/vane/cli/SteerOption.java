package dev.vane.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.ModelConfig;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The repeatable {@code --steer FILE[:SCALE]} option of generation and evaluation commands, with its conditions:
 * {@code --when PROBE>T} (steer a row only when the probe's probability at the prompt's last token is above T),
 * {@code --when PROBE~} (scale times that probability) or {@code --when none}. One {@code --when} gates every
 * {@code --steer}; or give one per {@code --steer}, in order.
 */
final class SteerOption {
    @Option(names = "--steer", paramLabel = "FILE[:SCALE]",
            description = "Apply a steering vector file (from `vane steer build`) at SCALE, default the vector's "
                    + "recommended scale. Repeat to compose several vectors.")
    List<String> specs = new ArrayList<>();

    @Option(names = "--when", paramLabel = "PROBE>T|PROBE~|none",
            description = "Gate the --steer vectors on a probe file (from `vane probe --save`) read at the prompt's last "
                    + "token in the same forward pass: PROBE>T steers a sequence only when the probe's probability is "
                    + "above T; PROBE~ scales the vector by that probability; none leaves a vector ungated. Once for every "
                    + "--steer, or once per --steer in order. Example: --steer antidote.safetensors:8 --when 'harm.safetensors>0.5' (quoted: > is the shell's)")
    List<String> when = new ArrayList<>();

    /** The gates of the terms, in --steer order (null entries: not gated). */
    List<Gate> gates(ModelConfig config) {
        if (when.isEmpty()) return new ArrayList<>(java.util.Collections.nCopies(specs.size(), null));
        if (specs.isEmpty()) throw new InvalidInputException("--when needs a --steer vector to gate");
        if (when.size() != 1 && when.size() != specs.size()) {
            throw new InvalidInputException("give one --when for every --steer, or one per --steer (" + specs.size()
                    + " --steer, " + when.size() + " --when)");
        }
        List<Gate> gates = new ArrayList<>();
        Map<Path, ProbeFile> read = new HashMap<>();     // one probe file read once, so its terms share one reading
        for (int i = 0; i < specs.size(); i++) {
            Gate g = parseGate(when.get(when.size() == 1 ? 0 : i), read);
            if (g != null) g.probe().validateFor(config);
            gates.add(g);
        }
        return gates;
    }

    /** {@code FILE>T}, {@code FILE~} or {@code none}. */
    static Gate parseGate(String spec, Map<Path, ProbeFile> read) {
        if (spec.equals("none")) return null;
        if (spec.endsWith("~")) return Gate.soft(probe(spec.substring(0, spec.length() - 1), spec, read));
        int gt = spec.lastIndexOf('>');
        if (gt <= 0) {
            throw new InvalidInputException("--when " + spec + ": write PROBE>T (e.g. harm.safetensors>0.5), PROBE~ or none");
        }
        double threshold;
        try {
            threshold = Double.parseDouble(spec.substring(gt + 1).trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--when " + spec + ": \"" + spec.substring(gt + 1) + "\" is not a threshold");
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new InvalidInputException("--when " + spec + ": the threshold is a probability, in [0, 1]");
        }
        return Gate.above(probe(spec.substring(0, gt), spec, read), threshold);
    }

    private static ProbeFile probe(String file, String spec, Map<Path, ProbeFile> read) {
        Path path = Path.of(file).toAbsolutePath().normalize();
        if (!Files.isRegularFile(path)) throw new InvalidInputException("--when " + spec + ": no probe file " + file);
        return read.computeIfAbsent(path, ProbeFile::read);
    }

    /** The vectors named on the command line, checked against {@code config}. */
    Steering steering(ModelConfig config) {
        List<Gate> gates = gates(config);
        Steering s = Steering.none();
        for (int i = 0; i < specs.size(); i++) {
            Parsed p = parse(specs.get(i));
            SteeringVector v = SteeringVector.read(p.file());
            v.validateFor(config);
            s = s.with(v, p.scale() == null ? (float) v.metadata().recommendedScale() : p.scale(), gates.get(i));
        }
        return s;
    }

    /** The vectors as a run's config records them: {@code [{"file", "sha256", "scale"}]}, scales as applied. */
    ArrayNode configJson(Steering steering) {
        ArrayNode out = RunDirectory.JSON.createArrayNode();
        for (int i = 0; i < specs.size(); i++) {
            Path file = parse(specs.get(i)).file();
            out.addObject().put("file", file.toAbsolutePath().normalize().toString())
                    .put("sha256", RunDirectory.sha256(file))
                    .put("scale", steering.terms().get(i).scale());
            Gate g = steering.terms().get(i).gate();
            if (g != null) {
                ObjectNode gate = ((ObjectNode) out.get(i)).putObject("when");
                gate.put("probe", g.probe().name()).put("soft", g.soft());
                if (!g.soft()) gate.put("above", g.threshold());
            }
        }
        return out;
    }

    /** A file and an optional scale. */
    record Parsed(Path file, Float scale) { }

    /** Splits {@code FILE[:SCALE]}; a colon followed by something that is not a number belongs to the path. */
    static Parsed parse(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon > 0) {
            String tail = spec.substring(colon + 1);
            try {
                float scale = Float.parseFloat(tail);
                if (!Float.isFinite(scale)) throw new InvalidInputException("--steer " + spec + ": scale must be finite");
                return new Parsed(Path.of(spec.substring(0, colon)), scale);
            } catch (NumberFormatException e) {
                if (!Files.exists(Path.of(spec))) {
                    throw new InvalidInputException("--steer " + spec + ": \"" + tail + "\" is not a scale");
                }
            }
        }
        return new Parsed(Path.of(spec), null);
    }
}
