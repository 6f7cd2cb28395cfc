package dev.vane.core.model;

import dev.vane.core.hook.Hooks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys and values of prompt prefixes, each computed once and copied into a fresh cache for every batch of
 * continuations that starts with it. Evaluations that score many continuations of the same prompts - the two
 * answers of an A/B question, every head and scale of a head sweep, GCG's candidates - then run only the
 * continuation's tokens instead of the whole prompt each time.
 *
 * <p>Prefixes run without hooks, so a prefix may only be shared where the caller's hooks leave its positions
 * alone (steering from the prompt end on, not at every position). A forked continuation equals a full
 * recomputation up to float rounding: the prefix ran in a call of another size, whose products may sum in
 * another order. Least recently used prefixes are dropped beyond {@code maxBytes}.
 *
 * <pre>{@code
 * PrefixCache prefixes = new PrefixCache(model, 256L << 20);
 * KvCache kv = prefixes.fork(List.of(prompt, prompt), 8);          // two continuations of one prompt
 * ForwardResult out = model.forward(Batch.of(answerA, answerB), hooks, kv, LogitsMode.ALL);
 * }</pre>
 */
public final class PrefixCache {
    private final Model model;
    private final long maxBytes;
    private final Map<Key, KvCache> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long computed;
    private long reused;

    /** Prefixes of {@code model}, keeping at most {@code maxBytes} of keys and values. */
    public PrefixCache(Model model, long maxBytes) {
        if (maxBytes < 0) throw new IllegalArgumentException("maxBytes must be >= 0");
        this.model = model;
        this.maxBytes = maxBytes;
    }

    /** An int[] compared by its contents. */
    private record Key(int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(tokens, k.tokens);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(tokens);
        }
    }

    /**
     * A new cache whose row r holds {@code prefixes.get(r)} (computed now unless it is held), with room for
     * {@code extra} more tokens per row: continue it with a call whose rows are all equally long (the rows
     * are right-aligned, so the continuation needs no padding).
     *
     * @throws IllegalArgumentException if a prefix is empty
     */
    public synchronized KvCache fork(List<int[]> prefixes, int extra) {
        if (prefixes.isEmpty()) throw new IllegalArgumentException("no prefixes");
        List<Key> missing = new ArrayList<>();
        for (int[] p : prefixes) {
            if (p.length == 0) throw new IllegalArgumentException("an empty prefix cannot be cached");
            Key k = new Key(p.clone());
            if (!entries.containsKey(k) && !missing.contains(k)) missing.add(k);
        }
        // held entries are copied out before new ones may push them out of the map
        Map<Key, KvCache> batch = compute(missing);
        List<KvCache.Row> rows = new ArrayList<>();
        int longest = 0;
        for (int[] p : prefixes) {
            Key k = new Key(p);
            KvCache c = batch.containsKey(k) ? batch.get(k) : entries.get(k);
            rows.add(new KvCache.Row(c, 0));
            longest = Math.max(longest, p.length);
        }
        reused += prefixes.size() - missing.size();
        KvCache forked = KvCache.merge(model.config(), rows, longest + extra);
        for (Map.Entry<Key, KvCache> e : batch.entrySet()) put(e.getKey(), e.getValue());
        return forked;
    }

    /** Runs the missing prefixes together and splits the result into one exact-size cache per prefix. */
    private Map<Key, KvCache> compute(List<Key> missing) {
        Map<Key, KvCache> out = new LinkedHashMap<>();
        if (missing.isEmpty()) return out;
        int[][] seqs = new int[missing.size()][];
        int longest = 0;
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = missing.get(i).tokens();
            longest = Math.max(longest, seqs[i].length);
        }
        KvCache all = model.newCache(seqs.length, longest);
        model.forward(Batch.of(seqs), Hooks.none(), all, LogitsMode.NONE);
        for (int i = 0; i < seqs.length; i++) {
            out.put(missing.get(i), KvCache.merge(model.config(), List.of(new KvCache.Row(all, i)), seqs[i].length));
        }
        computed += seqs.length;
        return out;
    }

    private void put(Key k, KvCache c) {
        if (c.byteSize() > maxBytes) return;
        entries.put(k, c);
        bytes += c.byteSize();
        var it = entries.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            bytes -= it.next().getValue().byteSize();
            it.remove();
        }
    }

    /** Prefixes computed so far (each computation is one row of a forward call). */
    public synchronized long computed() {
        return computed;
    }

    /** Prefix rows served from the cache instead of computed. */
    public synchronized long reused() {
        return reused;
    }

    /** Bytes of keys and values held now. */
    public synchronized long bytes() {
        return bytes;
    }
}
