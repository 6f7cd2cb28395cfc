package dev.vane.server.steer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.lab.steer.SteeringVector;
import dev.vane.server.steer.SteeringPolicy.VectorScale;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code GET /v1/vane/vectors} answers: every vector of the registry with its metadata, its recommended scale,
 * the range a slider offers ({@link ScaleRange}) and its scale in the server's default steering, followed by
 * presets, named sets of scales a client can apply in one step: no steering, the server's default, the safety knob
 * (every Jailbreak Antidote vector at its recommended scale) and each vector alone at its recommended scale.
 *
 * <pre>{@code
 * ObjectNode body = VectorCatalog.json(policy);
 * body.get("data").get(0).get("scale_range").get("max");     // e.g. 96.0 for antidote recommending 47.9
 * body.get("presets").get(2).get("scales");                   // {"antidote": 47.9}: the safety knob
 * }</pre>
 */
public final class VectorCatalog {
    private VectorCatalog() {
    }

    /** The catalog of {@code policy}'s registry and default steering. */
    public static ObjectNode json(SteeringPolicy policy) {
        Map<String, Double> defaults = defaultScales(policy);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (SteeringVector v : policy.registry().all().values()) data.add(vector(v, defaults.get(v.name())));
        ArrayNode presets = root.putArray("presets");
        presets.add(preset("none", "No steering", Map.of()));
        if (!defaults.isEmpty()) presets.add(preset("server-default", "The server's default (--steer)", defaults));
        Map<String, Double> antidotes = new LinkedHashMap<>();
        for (SteeringVector v : policy.registry().all().values()) {
            if (v.metadata().method().equals("antidote")) antidotes.put(v.name(), v.metadata().recommendedScale());
        }
        if (!antidotes.isEmpty()) {
            presets.add(preset("safety-knob", "Safety knob: Jailbreak Antidote at its recommended scale", antidotes));
        }
        for (SteeringVector v : policy.registry().all().values()) {
            presets.add(preset("recommended:" + v.name(), v.name() + " at its recommended scale",
                    Map.of(v.name(), v.metadata().recommendedScale())));
        }
        return root;
    }

    private static ObjectNode vector(SteeringVector v, Double defaultScale) {
        SteeringVector.Metadata m = v.metadata();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("name", v.name());
        o.put("method", m.method());
        o.put("model", m.model());
        o.put("sign", m.sign());
        o.put("positions", m.positions().id());
        o.put("recommended_scale", m.recommendedScale());
        // The scale search records how it measured the scale; a builder's guess has no basis.
        o.put("recommended_scale_measured", m.extra().containsKey("recommended_scale_basis"));
        ScaleRange range = ScaleRange.of(m);
        o.putObject("scale_range").put("min", range.min()).put("max", range.max()).put("step", range.step());
        if (defaultScale == null) o.putNull("default_scale");
        else o.put("default_scale", defaultScale);
        o.put("sparsity", m.sparsity());
        o.put("data", m.data());
        String heads = v.headsSpec();
        if (heads.isEmpty()) o.putNull("heads");
        else o.put("heads", heads);
        ArrayNode points = o.putArray("hook_points");
        for (SteeringVector.Component c : v.components()) points.add(c.point());
        ObjectNode extra = o.putObject("metadata");
        m.extra().forEach(extra::put);
        return o;
    }

    private static ObjectNode preset(String id, String label, Map<String, Double> scales) {
        ObjectNode p = JsonNodeFactory.instance.objectNode();
        p.put("id", id);
        p.put("label", label);
        ObjectNode s = p.putObject("scales");
        scales.forEach(s::put);
        return p;
    }

    /** The default steering's scale per vector, a missing scale read as the vector's recommended one. */
    private static Map<String, Double> defaultScales(SteeringPolicy policy) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (VectorScale d : policy.defaults()) {
            policy.registry().get(d.name()).ifPresent(v ->
                    out.put(d.name(), d.scale() != null ? d.scale().doubleValue() : v.metadata().recommendedScale()));
        }
        return out;
    }
}
