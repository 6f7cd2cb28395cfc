package dev.vane.lab.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's sizes as its config.json records them. */
class DemoSizesTest {
    @Test
    void aLimitMeaningAllIsNullNotZero() {
        ObjectNode json = DemoSizes.full().json();
        for (String limit : new String[]{"klPairs", "klPositions", "prefillPairs", "antidotePairs", "antidoteHarmful",
                "antidoteBenign", "probePerClass"}) {
            assertThat(json.get(limit).isNull()).as(limit + " in " + json).isTrue();
        }
        assertThat(json.get("maxNewTokens").asInt()).isEqualTo(48);
        assertThat(DemoSizes.quick().json().get("klPairs").asInt()).isEqualTo(6);
    }
}
