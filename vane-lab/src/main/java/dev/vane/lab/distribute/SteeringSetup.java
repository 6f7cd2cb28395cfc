package dev.vane.lab.distribute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Steering} as JSON, its vectors and probes inside ({@link ShippedFile}), so that a worker elsewhere applies
 * exactly the terms of this one: the same vectors (by name and value), scales, and gates, terms that share a
 * probe sharing it again (they read it once).
 *
 * <pre>{@code
 * JsonNode json = SteeringSetup.json(Steering.of(antidote, 48f));
 * Steering same = SteeringSetup.steering(json);
 * }</pre>
 */
public final class SteeringSetup {
    private SteeringSetup() {
    }

    /** {@code {"terms": [{"vector", "scale", "gate": {"probe": index, "soft", "threshold"?}}], "probes": [...]}}. */
    public static ObjectNode json(Steering steering) {
        ObjectNode o = RunDirectory.object();
        ArrayNode terms = o.putArray("terms");
        List<ProbeFile> probes = steering.probes();
        for (Steering.Term t : steering.terms()) {
            ObjectNode term = terms.addObject();
            term.set("vector", vector(t.vector()));
            term.put("scale", t.scale());
            if (t.gate() != null) {
                int index = 0;
                while (probes.get(index) != t.gate().probe()) index++;
                ObjectNode gate = term.putObject("gate").put("probe", index).put("soft", t.gate().soft());
                if (!t.gate().soft()) gate.put("threshold", t.gate().threshold());
            }
        }
        ArrayNode shipped = o.putArray("probes");
        for (ProbeFile p : probes) shipped.add(ShippedFile.pack(p.name() + ".safetensors", p::write));
        return o;
    }

    /** {@code gate} with its probe inside: {@code {"probe", "soft", "threshold"?}}. */
    public static ObjectNode gateJson(Gate gate) {
        ObjectNode o = RunDirectory.object();
        o.set("probe", ShippedFile.pack(gate.probe().name() + ".safetensors", gate.probe()::write));
        o.put("soft", gate.soft());
        if (!gate.soft()) o.put("threshold", gate.threshold());
        return o;
    }

    /** The gate {@link #gateJson} wrote. */
    public static Gate gate(JsonNode json) {
        return new Gate(ProbeFile.read(ShippedFile.unpack(json.get("probe"))), json.get("soft").asBoolean(),
                json.path("threshold").asDouble(Double.NaN));
    }

    /** A vector packed under its own name, so that it reads back with that name. */
    public static ObjectNode vector(SteeringVector v) {
        return ShippedFile.pack(v.name() + ".safetensors", v::write);
    }

    /** The steering {@link #json} wrote. */
    public static Steering steering(JsonNode json) {
        List<ProbeFile> probes = new ArrayList<>();
        json.path("probes").forEach(p -> probes.add(ProbeFile.read(ShippedFile.unpack(p))));
        Steering s = Steering.none();
        for (JsonNode term : json.path("terms")) {
            JsonNode g = term.get("gate");
            Gate gate = g == null ? null : new Gate(probes.get(g.get("probe").asInt()), g.get("soft").asBoolean(),
                    g.path("threshold").asDouble(Double.NaN));
            s = s.with(SteeringVector.read(ShippedFile.unpack(term.get("vector"))), term.get("scale").floatValue(), gate);
        }
        return s;
    }
}
