package dev.vane.server.batch;

import dev.vane.core.InvalidInputException;
import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.ForwardResult;
import dev.vane.core.model.KvCache;
import dev.vane.core.model.LogitsMode;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.steer.GateReadings;
import dev.vane.lab.steer.Steering;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: every sequence in flight shares one forward pass per step, each with its own
 * steering, sampling settings and stop conditions, and sequences join and leave between steps.
 *
 * <p>One thread runs the model. Each step it (1) takes waiting sequences up to {@code maxBatch} in flight,
 * prefills them together in one call with a KV cache of their own and samples their first tokens; (2) frees the
 * batch rows of sequences that finished or were cancelled; (3) copies each joiner into a free row of the running
 * cache ({@link KvCache#replaceRow}, right-aligned, so it keeps its token positions) where it fits, and builds a
 * new cache of exactly the live sequences ({@link KvCache#merge}) only when a joiner finds no room or free rows
 * have idled for a while; (4) runs one decode call feeding every row its newest token (free rows a placeholder
 * whose output is ignored). Steering is registered per batch row ({@link Steering#applyTo}), so one call carries
 * every request's own vectors. Listeners get tokens on this thread and must not block, so a slow client never
 * holds up the others.
 *
 * <pre>{@code
 * try (BatchScheduler scheduler = new BatchScheduler(model, tokenizer, eosIds, 16, 256)) {
 *     SequenceHandle h = scheduler.submit(List.of(request)).getFirst();
 *     ...
 *     h.cancel();          // the client went away: its row leaves the batch at the next step
 * }
 * }</pre>
 */
public final class BatchScheduler implements AutoCloseable {
    /** No room in the waiting queue. */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(String message) {
            super(message);
        }
    }

    /** The scheduler no longer accepts work (shutting down). */
    public static final class ClosedException extends RuntimeException {
        ClosedException() {
            super("the server is shutting down");
        }
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final int[] eosIds;
    private final int maxBatch;
    private final int maxWaiting;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private boolean accepting = true;
    private boolean abort;
    private int inFlight;           // waiting + running, for idle detection

    /** Free rows wait this many steps for a joiner before the cache is rebuilt without them. */
    private static final int IDLE_STEPS = 16;
    /** Columns a rebuilt cache keeps beyond what its sequences need, so that joiners fit into free rows. */
    private static final int HEADROOM = 128;

    // Owned by the scheduler thread (countInFlight reads rows under the lock from this same thread).
    /** The sequence in each batch row of the cache; null for a free row. */
    private List<Sequence> rows = new ArrayList<>();
    private long[] freeSince = new long[0];
    private KvCache cache;
    private KvCache placeholder;
    private Hooks hooks = new Hooks();
    private final float[] logits;

    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong peakBatch = new AtomicLong();

    /**
     * Starts the scheduler thread. {@code maxBatch} bounds the sequences decoded together; {@code maxWaiting}
     * bounds the queue behind them (submissions beyond it fail with {@link QueueFullException}).
     */
    public BatchScheduler(Model model, Tokenizer tokenizer, int[] eosIds, int maxBatch, int maxWaiting) {
        if (maxBatch < 1) throw new InvalidInputException("max batch must be >= 1, got " + maxBatch);
        if (maxWaiting < 1) throw new InvalidInputException("max waiting must be >= 1, got " + maxWaiting);
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds.clone();
        this.maxBatch = maxBatch;
        this.maxWaiting = maxWaiting;
        this.logits = new float[model.config().vocabSize()];
        this.thread = Thread.ofPlatform().name("vane-batch").daemon().start(this::loop);
    }

    /**
     * Queues sequences (the choices of one request: all or none). Each must fit the model's context; its
     * token budget is clipped to what the context leaves.
     *
     * @throws QueueFullException when the queue has no room for all of them
     * @throws ClosedException    when shutting down
     */
    public List<SequenceHandle> submit(List<SequenceRequest> requests) {
        int context = model.config().maxPositions();
        int vocab = model.config().vocabSize();
        List<Sequence> sequences = new ArrayList<>(requests.size());
        for (SequenceRequest r : requests) {
            int room = context - r.prompt().length;
            if (room < 1) {
                throw new InvalidInputException("prompt of " + r.prompt().length + " tokens leaves no room in the "
                        + "model's context of " + context);
            }
            int maxNew = Math.min(r.params().maxNewTokens(), room);
            if (maxNew < 1) throw new InvalidInputException("max tokens must be >= 1");
            for (int id : r.prompt()) {
                if (id < 0 || id >= vocab) {
                    throw new InvalidInputException("token id " + id + " is outside the model's vocabulary (" + vocab + ")");
                }
            }
            sequences.add(new Sequence(r, tokenizer, maxNew));
        }
        lock.lock();
        try {
            if (!accepting) throw new ClosedException();
            if (waiting.size() + sequences.size() > maxWaiting) {
                throw new QueueFullException("the server is busy (" + waiting.size() + " sequences waiting, at most "
                        + maxWaiting + "); retry later");
            }
            waiting.addAll(sequences);
            inFlight += sequences.size();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return List.copyOf(sequences);
    }

    /** Decode steps run so far (prefill calls not counted). */
    public long steps() {
        return steps.get();
    }

    /** Tokens generated so far, over all sequences. */
    public long tokensGenerated() {
        return tokens.get();
    }

    /** The most sequences decoded together in one step so far. */
    public long peakBatch() {
        return peakBatch.get();
    }

    /** Sequences queued or running. */
    public int inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops accepting work, lets the sequences in flight finish for up to {@code grace}, then ends the rest
     * with finish reason "abort", and stops the thread.
     */
    public void shutdown(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        lock.lock();
        try {
            accepting = false;
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                changed.awaitNanos(left);
            }
            abort = true;
            changed.signalAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #shutdown} with no grace period. */
    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    // ---- the scheduler thread ------------------------------------------------------------------------

    private void loop() {
        while (true) {
            List<Sequence> joining = new ArrayList<>();
            boolean moreWaiting;
            lock.lock();
            try {
                while (liveRows() == 0 && waiting.isEmpty() && !abort && accepting) changed.awaitUninterruptibly();
                if (abort || (!accepting && liveRows() == 0 && waiting.isEmpty())) break;
                int live = liveRows();
                while (!waiting.isEmpty() && live + joining.size() < maxBatch) joining.add(waiting.poll());
                moreWaiting = !waiting.isEmpty();
            } finally {
                lock.unlock();
            }
            step(joining, moreWaiting);
            countInFlight();
        }
        // Shutting down: whatever is left ends cleanly with "abort".
        lock.lock();
        try {
            for (Sequence s : rows) if (s != null) s.finish("abort");
            for (Sequence s : waiting) s.finish("abort");
            rows = new ArrayList<>();
            waiting.clear();
            inFlight = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * One step: prefill the joining sequences, free the rows of sequences that ended, put joiners into free rows
     * where they fit (or build a new cache when they do not, or when free rows have idled too long), then decode.
     */
    private void step(List<Sequence> joining, boolean moreWaiting) {
        Prefill joined = prefill(joining);
        boolean batchChanged = false;
        for (int r = 0; r < rows.size(); r++) {
            Sequence s = rows.get(r);
            if (s != null && s.done()) {
                free(r);
                batchChanged = true;
            }
        }
        List<Integer> homeless = new ArrayList<>();
        for (int j = 0; j < joined.sequences().size(); j++) {
            Sequence s = joined.sequences().get(j);
            if (s.done()) continue;     // finished on its first token
            batchChanged = true;
            int r = freeRowFor(s, joined.cache().tokens(j));
            if (r < 0) {
                homeless.add(j);
                continue;
            }
            cache.replaceRow(r, new KvCache.Row(joined.cache(), j));
            rows.set(r, s);
        }
        int live = liveRows(), idle = rows.size() - live;
        if (live + homeless.size() == 0) {
            rows = new ArrayList<>();
            cache = null;
            return;
        }
        try {
            boolean stale = false;
            for (int r = 0; r < rows.size(); r++) stale |= rows.get(r) == null && steps.get() - freeSince[r] > IDLE_STEPS;
            // Joiners that found no room, or free rows nobody is queueing for that cost more than a copy: repack.
            if (!homeless.isEmpty() || (!moreWaiting && idle > 0 && (idle >= live || stale))) {
                repack(joined, homeless);
                batchChanged = true;
            }
            if (batchChanged) hooks = hooksFor(rows);
            decode();
        } catch (RuntimeException e) {
            // A failed call leaves the cache in an unknown state: end what it touched, keep serving the rest.
            for (Sequence s : rows) if (s != null) s.fail(e);
            for (int j : homeless) joined.sequences().get(j).fail(e);
            rows = new ArrayList<>();
            cache = null;
        }
    }

    /** The joining sequences that were prefilled, in the rows of their own cache. */
    private record Prefill(List<Sequence> sequences, KvCache cache) {
    }

    /** Runs the prompts of the joining sequences in one call and samples each one's first token. */
    private Prefill prefill(List<Sequence> joining) {
        List<Sequence> live = new ArrayList<>();
        for (Sequence s : joining) if (!s.done()) live.add(s);
        if (live.isEmpty()) return new Prefill(List.of(), null);
        try {
            int[][] prompts = new int[live.size()][];
            int longest = 0;
            for (int r = 0; r < prompts.length; r++) {
                prompts[r] = live.get(r).request.prompt();
                longest = Math.max(longest, prompts[r].length);
            }
            KvCache prefilled = model.newCache(prompts.length, longest);
            ForwardResult out = model.forward(Batch.of(prompts), hooksFor(live), prefilled, LogitsMode.LAST);
            for (int r = 0; r < prompts.length; r++) {
                live.get(r).reportGates();
                out.lastLogits(r, logits);
                live.get(r).advance(logits, eosIds);
                tokens.incrementAndGet();
            }
            return new Prefill(live, prefilled);
        } catch (RuntimeException e) {
            for (Sequence s : live) s.fail(e);      // the running sequences are untouched
            return new Prefill(List.of(), null);
        }
    }

    /** One token for every row: live rows get their newest token, free rows a placeholder whose output is unused. */
    private void decode() {
        int[] next = new int[rows.size()];
        for (int r = 0; r < next.length; r++) next[r] = rows.get(r) == null ? 0 : rows.get(r).pending();
        ForwardResult out = model.forward(Batch.nextTokens(next), hooks, cache, LogitsMode.LAST);
        steps.incrementAndGet();
        peakBatch.accumulateAndGet(liveRows(), Math::max);
        for (int r = 0; r < rows.size(); r++) {
            Sequence s = rows.get(r);
            if (s == null || s.done()) continue;        // free, or cancelled during the call
            out.lastLogits(r, logits);
            s.advance(logits, eosIds);
            tokens.incrementAndGet();
        }
    }

    /**
     * Frees row {@code r}. Its columns are overwritten with a one-token placeholder so that the free row's own
     * sequence length stays short while it is fed placeholders (it must never pass the model's context).
     */
    private void free(int r) {
        rows.set(r, null);
        if (placeholder == null) {
            placeholder = model.newCache(1, 1);
            model.forward(Batch.of(new int[]{0}), new Hooks(), placeholder, LogitsMode.NONE);
        }
        cache.replaceRow(r, new KvCache.Row(placeholder, 0));
        freeSince[r] = steps.get();
    }

    /**
     * A free row that a sequence of {@code tokens} tokens fits: it must not be longer than the columns so far
     * (it is right-aligned to them) and its remaining tokens must fit the capacity. -1 if none.
     */
    private int freeRowFor(Sequence s, int tokens) {
        if (cache == null || tokens > cache.length() || cache.length() + s.remaining() > cache.capacity()) return -1;
        for (int r = 0; r < rows.size(); r++) if (rows.get(r) == null) return r;
        return -1;
    }

    /**
     * A new cache with exactly the live sequences (the running ones, then the joiners that found no free row)
     * and room for their remaining tokens plus {@link #HEADROOM} columns, so later joiners fit without another copy.
     */
    private void repack(Prefill joined, List<Integer> homeless) {
        List<Sequence> live = new ArrayList<>();
        List<KvCache.Row> sources = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            if (rows.get(r) == null) continue;
            live.add(rows.get(r));
            sources.add(new KvCache.Row(cache, r));
        }
        for (int j : homeless) {
            live.add(joined.sequences().get(j));
            sources.add(new KvCache.Row(joined.cache(), j));
        }
        int longest = 0, remaining = 0;
        for (KvCache.Row row : sources) longest = Math.max(longest, row.cache().tokens(row.row()));
        for (Sequence s : live) remaining = Math.max(remaining, s.remaining());
        cache = KvCache.merge(model.config(), sources, longest + remaining + HEADROOM);
        rows = live;
        freeSince = new long[live.size()];
    }

    private int liveRows() {
        int n = 0;
        for (Sequence s : rows) if (s != null && !s.done()) n++;
        return n;
    }

    /**
     * Hooks steering each batch row with its own sequence's vectors. Rows asking for the same steering share
     * one registration, so a batch of sixteen requests with the same vector adds its hooks once. Gated terms read
     * and keep each row's decision in its sequence's {@link GateReadings}: the prompt's call (the only one holding
     * the prompt's last token) decides, every later call steers by that decision.
     */
    private static Hooks hooksFor(List<Sequence> rows) {
        Map<List<Steering.Term>, List<Integer>> groups = new LinkedHashMap<>();
        Map<List<Steering.Term>, Steering> steeringOf = new LinkedHashMap<>();
        for (int r = 0; r < rows.size(); r++) {
            if (rows.get(r) == null) continue;          // a free row: nothing to steer
            Steering s = rows.get(r).request.steering();
            if (s.isEmpty()) continue;
            groups.computeIfAbsent(s.terms(), k -> new ArrayList<>()).add(r);
            steeringOf.putIfAbsent(s.terms(), s);
        }
        Hooks hooks = new Hooks();
        groups.forEach((terms, members) -> {
            int[] batchRows = members.stream().mapToInt(Integer::intValue).toArray();
            int[] promptEnd = new int[batchRows.length];
            GateReadings[] gates = new GateReadings[batchRows.length];
            for (int i = 0; i < batchRows.length; i++) {
                promptEnd[i] = rows.get(batchRows[i]).request.promptEnd();
                gates[i] = rows.get(batchRows[i]).gates;
            }
            steeringOf.get(terms).applyTo(hooks, batchRows, promptEnd, gates);
        });
        return hooks;
    }

    /** Recounts the sequences in flight (finished and cancelled ones no longer count), waking a shutdown. */
    private void countInFlight() {
        lock.lock();
        try {
            int before = inFlight;
            inFlight = waiting.size() + liveRows();
            if (inFlight != before) changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
