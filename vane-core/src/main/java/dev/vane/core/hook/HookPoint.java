package dev.vane.core.hook;

import dev.vane.core.InvalidInputException;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named place in the forward pass, with TransformerLens names: {@code hook_embed},
 * {@code blocks.L.hook_resid_pre}, {@code blocks.L.attn.hook_q|k|v|pattern|z}, {@code blocks.L.hook_attn_out},
 * {@code blocks.L.hook_resid_mid}, {@code blocks.L.hook_mlp_out}, {@code blocks.L.hook_resid_post},
 * {@code ln_final.hook_normalized}, {@code logits}.
 *
 * <pre>{@code
 * HookPoint p = HookPoint.parse("blocks.13.hook_resid_post");   // layer 13, Kind.RESID_POST
 * String name = HookPoint.of(2, HookPoint.Kind.Z).name();        // "blocks.2.attn.hook_z"
 * }</pre>
 *
 * @param layer the block, or -1 for points outside the blocks
 * @param kind  what the point holds
 */
public record HookPoint(int layer, Kind kind) {

    /** What a hook point holds; the shape per sequence is given for each. */
    public enum Kind {
        /** Token embeddings after any embedding scaling [pos, d_model]. */
        EMBED("hook_embed", false),
        /** Input of a block [pos, d_model]. */
        RESID_PRE("hook_resid_pre", true),
        /** Queries after projection, qk-norm and RoPE [pos, heads, d_head]. */
        Q("attn.hook_q", true),
        /** Keys after projection, qk-norm and RoPE [pos, kv_heads, d_head]. */
        K("attn.hook_k", true),
        /** Values after projection [pos, kv_heads, d_head]. */
        V("attn.hook_v", true),
        /** Softmax attention probabilities [heads, query, key]. */
        PATTERN("attn.hook_pattern", true),
        /** Each head's output before o_proj [pos, heads, d_head]. */
        Z("attn.hook_z", true),
        /** o_proj output, before any post-attention norm [pos, d_model]. */
        ATTN_OUT("hook_attn_out", true),
        /** Residual after the attention add [pos, d_model]. */
        RESID_MID("hook_resid_mid", true),
        /** MLP output, before any post-feedforward norm [pos, d_model]. */
        MLP_OUT("hook_mlp_out", true),
        /** Output of a block [pos, d_model]. */
        RESID_POST("hook_resid_post", true),
        /** Final norm output [pos, d_model]. */
        LN_FINAL("ln_final.hook_normalized", false),
        /** Unembedding output after any final soft-capping [pos, vocab]. */
        LOGITS("logits", false);

        private final String suffix;
        private final boolean perLayer;

        Kind(String suffix, boolean perLayer) {
            this.suffix = suffix;
            this.perLayer = perLayer;
        }

        /** The name's last part, e.g. {@code attn.hook_z}. */
        public String suffix() {
            return suffix;
        }

        /** True for points inside each block. */
        public boolean perLayer() {
            return perLayer;
        }

        /** True for points whose values are split by head (q, k, v, z). */
        public boolean perHead() {
            return this == Q || this == K || this == V || this == Z;
        }
    }

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d{1,6})\\.(.+)");

    /** Shared instances for the first layers: the forward pass names a point at every site of every call. */
    private static final HookPoint[][] SHARED = new HookPoint[256][];

    static {
        for (int l = 0; l < SHARED.length; l++) {
            SHARED[l] = new HookPoint[Kind.values().length];
            for (Kind k : Kind.values()) SHARED[l][k.ordinal()] = new HookPoint(k.perLayer ? l : -1, k);
        }
    }

    /** The per-layer point {@code kind} in block {@code layer} (layer ignored for points outside the blocks). */
    public static HookPoint of(int layer, Kind kind) {
        int l = kind.perLayer ? layer : 0;
        if (l >= 0 && l < SHARED.length) return SHARED[l][kind.ordinal()];
        return new HookPoint(kind.perLayer ? layer : -1, kind);
    }

    /** Parses a canonical hook name; an unknown name fails with the list of valid forms. */
    public static HookPoint parse(String name) {
        Matcher m = BLOCK.matcher(name);
        if (m.matches()) {
            for (Kind k : Kind.values()) {
                if (k.perLayer && k.suffix.equals(m.group(2))) {
                    return new HookPoint(Integer.parseInt(m.group(1)), k);
                }
            }
        } else {
            for (Kind k : Kind.values()) {
                if (!k.perLayer && k.suffix.equals(name)) {
                    return new HookPoint(-1, k);
                }
            }
        }
        throw new InvalidInputException("unknown hook point '" + name + "' (valid: hook_embed, "
                + "blocks.L.{" + String.join(",", Arrays.stream(Kind.values()).filter(Kind::perLayer)
                .map(Kind::suffix).toList()) + "}, ln_final.hook_normalized, logits)");
    }

    /** The canonical name. */
    public String name() {
        return kind.perLayer ? "blocks." + layer + "." + kind.suffix : kind.suffix;
    }

    @Override
    public String toString() {
        return name();
    }
}
