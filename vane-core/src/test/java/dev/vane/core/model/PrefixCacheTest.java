package dev.vane.core.model;

import dev.vane.core.hook.Hooks;
import dev.vane.core.hook.Positions;
import dev.vane.core.tensor.FloatTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Continuations of a cached prefix equal a full recomputation of prefix and continuation together. */
class PrefixCacheTest {
    private static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.dir("qwen2"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Logits of the last {@code n} positions of {@code seq}, computed in one call from scratch. */
    private static float[] tail(int[] seq, int n, Hooks hooks) {
        FloatTensor all = model.forward(Batch.of(seq), hooks).logits(0);
        int vocab = all.dim(1);
        return Arrays.copyOfRange(all.data(), (seq.length - n) * vocab, seq.length * vocab);
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void forkedContinuationsEqualFullRecomputation() {
        int[] seq = Fixtures.sequence("qwen2", 0);
        int[] p1 = Arrays.copyOf(seq, 12), p2 = Arrays.copyOf(seq, 7);     // prefixes of different lengths
        int[] c1 = {seq[12], seq[13], seq[14]}, c2 = {seq[15], seq[16], seq[17]}, c3 = {seq[3], seq[9], seq[1]};
        PrefixCache prefixes = new PrefixCache(model, 1L << 30);
        // A steering hook from position 12 on acts only on the continuations of p1 (and not at all on p2's).
        float[] v = new float[model.config().dModel()];
        Arrays.fill(v, 0.05f);
        Hooks steer = new Hooks().add("blocks.1.hook_resid_post", v, 1f, Positions.from(12));

        KvCache kv = prefixes.fork(List.of(p1, p1, p2), c1.length);
        FloatTensor out = model.forward(Batch.of(c1, c2, c3), steer, kv, LogitsMode.ALL).logits(0);
        int vocab = out.dim(1);
        assertThat(out.dim(0)).isEqualTo(3);
        assertThat(maxAbsDiff(out.data(), tail(concat(p1, c1), 3, steer))).isLessThan(1e-5f);
        float[] row1 = model.forward(Batch.of(c1, c2, c3), steer, prefixes.fork(List.of(p1, p1, p2), 3),
                LogitsMode.ALL).logits(1).data();
        assertThat(maxAbsDiff(row1, tail(concat(p1, c2), 3, steer))).isLessThan(1e-5f);
        float[] row2 = model.forward(Batch.of(c1, c2, c3), steer, prefixes.fork(List.of(p1, p1, p2), 3),
                LogitsMode.ALL).logits(2).data();
        assertThat(maxAbsDiff(row2, tail(concat(p2, c3), 3, steer))).isLessThan(1e-5f);
        assertThat(vocab).isEqualTo(model.config().vocabSize());

        // Each distinct prefix ran once; every later row came from the cache.
        assertThat(prefixes.computed()).isEqualTo(2);
        assertThat(prefixes.reused()).isEqualTo(1 + 3 + 3);
        assertThat(prefixes.bytes()).isPositive();
    }

    @Test
    void leastRecentlyUsedPrefixesAreDroppedBeyondTheLimit() {
        int[] seq = Fixtures.sequence("qwen2", 1);
        int[] a = Arrays.copyOf(seq, 5), b = Arrays.copyOf(seq, 6);
        PrefixCache big = new PrefixCache(model, 1L << 30);
        big.fork(List.of(a), 1);
        long oneEntry = big.bytes();
        PrefixCache small = new PrefixCache(model, oneEntry + oneEntry / 2);    // room for a, not for a and b
        small.fork(List.of(a), 1);
        small.fork(List.of(b), 1);
        small.fork(List.of(a), 1);                                             // a was dropped for b
        assertThat(small.computed()).isEqualTo(3);
        assertThat(small.bytes()).isLessThanOrEqualTo(oneEntry + oneEntry / 2);
        // a forked cache is independent of the held prefix: continuing it twice gives the same logits
        KvCache x = small.fork(List.of(a), 2), y = small.fork(List.of(a), 2);
        float[] lx = model.forward(Batch.of(new int[]{seq[5], seq[6]}), Hooks.none(), x, LogitsMode.ALL).logits(0).data();
        model.forward(Batch.of(new int[]{seq[9], seq[2]}), Hooks.none(), y, LogitsMode.ALL);
        float[] lz = model.forward(Batch.of(new int[]{seq[5], seq[6]}), Hooks.none(), small.fork(List.of(a), 2),
                LogitsMode.ALL).logits(0).data();
        assertThat(lz).isEqualTo(lx);
    }

    @Test
    void tailLogitsAreTheLastColumnsOfAllLogits() {
        int[] seq = Fixtures.sequence("qwen2", 2);
        FloatTensor all = model.forward(Batch.of(seq), Hooks.none()).logits(0);
        ForwardResult tail = model.forward(Batch.of(seq), Hooks.none(), model.newCache(1, seq.length), 3);
        FloatTensor last3 = tail.tailLogits(0, 3);
        int vocab = all.dim(1);
        assertThat(last3.shape()).containsExactly(3, vocab);
        float[] want = Arrays.copyOfRange(all.data(), (seq.length - 3) * vocab, seq.length * vocab);
        assertThat(maxAbsDiff(last3.data(), want)).isLessThan(1e-5f);
        assertThat(tail.lastLogits(0)).isEqualTo(Arrays.copyOfRange(last3.data(), 2 * vocab, 3 * vocab));
        assertThatThrownBy(() -> tail.tailLogits(0, 4)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> tail.logits(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> model.forward(Batch.of(seq), Hooks.none(), model.newCache(1, seq.length), seq.length + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyPrefixesAreRefused() {
        PrefixCache prefixes = new PrefixCache(model, 1L << 20);
        assertThatThrownBy(() -> prefixes.fork(List.of(new int[0]), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty prefix");
        assertThatThrownBy(() -> prefixes.fork(List.of(), 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
