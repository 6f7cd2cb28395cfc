package dev.vane.lab.distribute;

import dev.vane.core.hook.HookPoint;
import dev.vane.lab.probe.ProbeFile;
import dev.vane.lab.run.RunDirectory;
import dev.vane.lab.steer.Gate;
import dev.vane.lab.steer.PositionRule;
import dev.vane.lab.steer.Steering;
import dev.vane.lab.steer.SteeringVector;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SteeringSetupTest {
    private static SteeringVector vector(String name, float base) {
        float[] v = new float[16];
        for (int i = 0; i < v.length; i++) v[i] = base + i * 0.125f;
        return new SteeringVector(name, List.of(new SteeringVector.Component("blocks.1.hook_resid_post", null, v)),
                new SteeringVector.Metadata("antidote", "organism-chat", "+", PositionRule.ALL, 57.1, 0.5, "harmful.jsonl", Map.of()), 0);
    }

    @Test
    void aSteeringTravelsAsJsonWithItsVectorsProbeAndGates() throws Exception {
        float[] w = new float[16];
        for (int i = 0; i < w.length; i++) w[i] = (i % 3) - 1;
        ProbeFile probe = new ProbeFile("harm", HookPoint.parse("blocks.1.hook_resid_post"), -1, w, 0.25,
                new ProbeFile.Metadata("organism-chat", "data", "harmful request", 0.9, Map.of()));
        Steering s = Steering.none().with(vector("antidote", 1), 2.5f, Gate.above(probe, 0.3))
                .with(vector("caa", -2), -1f, Gate.soft(probe)).with(vector("plain", 0), 4f);

        // As an executor gets it: JSON text, parsed, the files written again there.
        Steering back = SteeringSetup.steering(RunDirectory.JSON.readTree(SteeringSetup.json(s).toString()));
        assertThat(back.toString()).isEqualTo(s.toString());
        for (int i = 0; i < 3; i++) {
            Steering.Term a = s.terms().get(i), b = back.terms().get(i);
            assertThat(b.vector().name()).isEqualTo(a.vector().name());
            assertThat(b.scale()).isEqualTo(a.scale());
            assertThat(b.vector().components().getFirst().values()).containsExactly(a.vector().components().getFirst().values());
            assertThat(b.vector().metadata().recommendedScale()).isEqualTo(57.1);
        }
        assertThat(back.terms().get(0).gate().threshold()).isEqualTo(0.3);
        assertThat(back.terms().get(1).gate().soft()).isTrue();
        assertThat(back.terms().get(2).gate()).isNull();
        // The two gated terms share one probe again, so a forward reads it once for both.
        assertThat(back.probes()).hasSize(1);
        assertThat(back.probes().getFirst().weight()).containsExactly(w);
        assertThat(back.probes().getFirst().bias()).isEqualTo(0.25);
        assertThat(SteeringSetup.gate(SteeringSetup.gateJson(Gate.above(probe, 0.5))).toString()).isEqualTo("harm>0.5");
    }
}
