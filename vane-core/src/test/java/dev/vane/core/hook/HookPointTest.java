package dev.vane.core.hook;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.HookPoint.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HookPointTest {

    @ParameterizedTest
    @EnumSource(Kind.class)
    void nameAndParseRoundTrip(Kind kind) {
        for (int layer : new int[]{0, 7, 123}) {
            HookPoint p = HookPoint.of(layer, kind);
            String name = p.name();
            assertThat(HookPoint.parse(name)).isEqualTo(p);
            assertThat(HookPoint.parse(name).name()).isEqualTo(name);
            assertThat(p.toString()).isEqualTo(name);
            if (kind.perLayer()) {
                assertThat(p.layer()).isEqualTo(layer);
                assertThat(name).isEqualTo("blocks." + layer + "." + kind.suffix());
            } else {
                assertThat(p.layer()).isEqualTo(-1);
                assertThat(name).isEqualTo(kind.suffix());
            }
        }
    }

    @Test
    void canonicalNames() {
        assertThat(HookPoint.of(0, Kind.EMBED).name()).isEqualTo("hook_embed");
        assertThat(HookPoint.of(3, Kind.RESID_PRE).name()).isEqualTo("blocks.3.hook_resid_pre");
        assertThat(HookPoint.of(3, Kind.Q).name()).isEqualTo("blocks.3.attn.hook_q");
        assertThat(HookPoint.of(3, Kind.K).name()).isEqualTo("blocks.3.attn.hook_k");
        assertThat(HookPoint.of(3, Kind.V).name()).isEqualTo("blocks.3.attn.hook_v");
        assertThat(HookPoint.of(3, Kind.PATTERN).name()).isEqualTo("blocks.3.attn.hook_pattern");
        assertThat(HookPoint.of(3, Kind.Z).name()).isEqualTo("blocks.3.attn.hook_z");
        assertThat(HookPoint.of(3, Kind.ATTN_OUT).name()).isEqualTo("blocks.3.hook_attn_out");
        assertThat(HookPoint.of(3, Kind.RESID_MID).name()).isEqualTo("blocks.3.hook_resid_mid");
        assertThat(HookPoint.of(3, Kind.MLP_OUT).name()).isEqualTo("blocks.3.hook_mlp_out");
        assertThat(HookPoint.of(3, Kind.RESID_POST).name()).isEqualTo("blocks.3.hook_resid_post");
        assertThat(HookPoint.of(3, Kind.LN_FINAL).name()).isEqualTo("ln_final.hook_normalized");
        assertThat(HookPoint.of(3, Kind.LOGITS).name()).isEqualTo("logits");
    }

    @Test
    void parseGivesLayerAndKind() {
        assertThat(HookPoint.parse("blocks.13.hook_resid_post")).isEqualTo(new HookPoint(13, Kind.RESID_POST));
        assertThat(HookPoint.parse("blocks.2.attn.hook_z")).isEqualTo(new HookPoint(2, Kind.Z));
        assertThat(HookPoint.parse("hook_embed")).isEqualTo(new HookPoint(-1, Kind.EMBED));
        assertThat(HookPoint.parse("logits")).isEqualTo(new HookPoint(-1, Kind.LOGITS));
    }

    @Test
    void perHeadKinds() {
        assertThat(Kind.Q.perHead()).isTrue();
        assertThat(Kind.K.perHead()).isTrue();
        assertThat(Kind.V.perHead()).isTrue();
        assertThat(Kind.Z.perHead()).isTrue();
        assertThat(Kind.PATTERN.perHead()).isFalse();
        assertThat(Kind.RESID_POST.perHead()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"blocks.x.hook_foo", "blocks.1.hook_foo", "hook_resid_post", "blocks.1.hook_embed",
            "blocks.1.logits", "blocks..hook_resid_post", "blocks.-1.hook_resid_post", "blocks.1.attn.hook_resid_post",
            "blocks.1.hook_z", "Blocks.1.hook_resid_post", "blocks.1.hook_resid_post ", "embed", "", "ln_final",
            "blocks.1234567.hook_resid_post"})
    void unknownNamesFailListingValidForms(String name) {
        assertThatThrownBy(() -> HookPoint.parse(name))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("'" + name + "'")
                .hasMessageContainingAll("hook_embed", "blocks.L.", "hook_resid_pre", "attn.hook_pattern",
                        "attn.hook_z", "hook_resid_post", "ln_final.hook_normalized", "logits");
    }
}
