package dev.vane.server.steer;

import dev.vane.core.InvalidInputException;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server-wide default steering ({@code --steer NAME[:SCALE]}) and how a request's own steering combines
 * with it. The request's list is applied on top of the default: a vector the default already uses takes the
 * request's scale (so scale 0 switches that one off), other vectors are added; a request may also drop the
 * default altogether. Scales of 0 are left out of the result.
 *
 * <pre>{@code
 * SteeringPolicy policy = SteeringPolicy.of(registry, List.of("antidote:4"));
 * policy.compose(List.of(), true);                                   // antidote at 4
 * policy.compose(List.of(new VectorScale("antidote", 0f)), true);    // nothing
 * policy.compose(List.of(new VectorScale("caa", 1f)), false);        // caa at 1, no default
 * }</pre>
 */
public final class SteeringPolicy {
    /**
     * One vector by name at one scale; {@code scale} null means the vector's recommended scale; {@code when} null
     * means not gated.
     */
    public record VectorScale(String name, Float scale, When when) {
        public VectorScale(String name, Float scale) {
            this(name, scale, null);
        }
    }

    /**
     * A request's gate: probe {@code probe} of the server's {@code --probes}, firing above {@code above}, or scaling by
     * its probability when {@code soft}.
     */
    public record When(String probe, Double above, boolean soft) {
    }

    private final VectorRegistry registry;
    private final ProbeRegistry probes;
    private final List<VectorScale> defaults;

    private SteeringPolicy(VectorRegistry registry, ProbeRegistry probes, List<VectorScale> defaults) {
        this.registry = registry;
        this.probes = probes;
        this.defaults = List.copyOf(defaults);
    }

    /**
     * The registry with default steering from {@code --steer} specs ({@code NAME} or {@code NAME:SCALE}).
     *
     * @throws InvalidInputException for a malformed spec or a name the registry does not hold
     */
    public static SteeringPolicy of(VectorRegistry registry, List<String> defaultSpecs) {
        return of(registry, ProbeRegistry.empty(), defaultSpecs);
    }

    /** As {@link #of(VectorRegistry, List)}, with probes that requests may gate their steering on. */
    public static SteeringPolicy of(VectorRegistry registry, ProbeRegistry probes, List<String> defaultSpecs) {
        List<VectorScale> defaults = new ArrayList<>();
        for (String spec : defaultSpecs) {
            int colon = spec.lastIndexOf(':');
            String name = colon < 0 ? spec : spec.substring(0, colon);
            Float scale = null;
            if (colon >= 0) {
                try {
                    scale = Float.parseFloat(spec.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new InvalidInputException("--steer " + spec + ": \"" + spec.substring(colon + 1) + "\" is not a scale");
                }
                if (!Float.isFinite(scale)) throw new InvalidInputException("--steer " + spec + ": scale must be finite");
            }
            defaults.add(new VectorScale(name, scale));
        }
        SteeringPolicy policy = new SteeringPolicy(registry, probes, defaults);
        policy.compose(List.of(), true);     // fails now, at start, on an unknown default name
        return policy;
    }

    /** The vectors a request may name. */
    public VectorRegistry registry() {
        return registry;
    }

    /** The probes a request may gate on. */
    public ProbeRegistry probes() {
        return probes;
    }

    /** The default steering as given on the command line. */
    public List<VectorScale> defaults() {
        return defaults;
    }

    /**
     * The steering of one request: its {@code requested} vectors on top of the default (or alone when
     * {@code useDefault} is false).
     *
     * @throws InvalidInputException naming an unknown vector (and the ones on offer) or a repeated one
     */
    public Steering compose(List<VectorScale> requested, boolean useDefault) {
        Map<String, VectorScale> chosen = new LinkedHashMap<>();
        if (useDefault) for (VectorScale v : defaults) chosen.put(v.name(), v);
        Map<String, Boolean> named = new LinkedHashMap<>();
        for (VectorScale v : requested) {
            if (named.put(v.name(), true) != null) {
                throw new InvalidInputException("steering names vector \"" + v.name() + "\" twice");
            }
            chosen.put(v.name(), v);
        }
        Steering steering = Steering.none();
        for (VectorScale v : chosen.values()) {
            SteeringVector vector = registry.get(v.name()).orElseThrow(() -> new InvalidInputException(
                    "unknown steering vector \"" + v.name() + "\"; this server offers "
                            + (registry.all().isEmpty() ? "none (start it with --vectors DIR)" : String.join(", ", registry.all().keySet()))));
            float scale = v.scale() != null ? v.scale() : (float) vector.metadata().recommendedScale();
            if (scale != 0f) steering = steering.with(vector, scale, gate(v.when()));
        }
        return steering;
    }

    /** The gate a request asked for, or null. */
    private Gate gate(When when) {
        if (when == null) return null;
        ProbeFile probe = probes.get(when.probe()).orElseThrow(() -> new InvalidInputException(
                "unknown probe \"" + when.probe() + "\"; this server offers "
                        + (probes.all().isEmpty() ? "none (start it with --probes DIR)" : String.join(", ", probes.all().keySet()))));
        return when.soft() ? Gate.soft(probe) : Gate.above(probe, when.above());
    }
}
