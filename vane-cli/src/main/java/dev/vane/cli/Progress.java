package dev.vane.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * Progress of a long job on stderr: done/total, rate and time left. On a terminal one line is redrawn in place
 * a few times a second; otherwise (a log file, CI, nohup) a plain line is printed every few seconds, so that a
 * long job is never silent. {@code total} -1 means unknown: then only the count and rate are shown.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("extract", items.size(), err)) {
 *     for (Item item : items) { work(item); p.step(item.name()); }
 * }
 * }</pre>
 */
final class Progress implements AutoCloseable {
    /** Seconds between plain lines when stderr is not a terminal; system property vane.progress.seconds overrides. */
    static final double PLAIN_EVERY_SECONDS = 5;
    private static final double REDRAW_EVERY_SECONDS = 0.2;

    private final String task;
    private final PrintWriter err;
    private final boolean terminal;
    private final double everySeconds;
    private final LongSupplier clock;
    private long started;
    /** Units done before this process started (a resumed job): not counted in the rate. */
    private long resumed;
    private long total;
    private long done;
    private String label = "";
    private long lastShown;
    private boolean shownAny;
    private boolean closed;

    Progress(String task, long total, PrintWriter err, boolean terminal, double everySeconds, LongSupplier nanoClock) {
        this.task = task;
        this.total = total;
        this.err = err;
        this.terminal = terminal;
        this.everySeconds = everySeconds;
        this.clock = nanoClock;
        this.started = nanoClock.getAsLong();
        this.lastShown = started;
    }

    /** Progress on {@code err}, drawn in place when stderr is a terminal, else a plain line every few seconds. */
    static Progress start(String task, long total, PrintWriter err) {
        boolean terminal = stderrIsTerminal();
        double every = terminal ? REDRAW_EVERY_SECONDS
                : Double.parseDouble(System.getProperty("vane.progress.seconds", Double.toString(PLAIN_EVERY_SECONDS)));
        return new Progress(task, total, err, terminal, every, System::nanoTime);
    }

    /**
     * Whether file descriptor 2 is a terminal. Java cannot ask isatty(2); on Linux /proc names the device. Elsewhere
     * a console means an interactive session (it says nothing of stderr alone, but is the best the JDK offers).
     */
    static boolean stderrIsTerminal() {
        try {
            Path fd = Path.of("/proc/self/fd/2");
            if (Files.isSymbolicLink(fd)) {
                String target = Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            }
        } catch (Exception e) {
            // no /proc: fall through
        }
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /** Sets the number of units once it is known (a job that resumes learns it after opening its run). */
    synchronized void total(long total) {
        this.total = total;
    }

    /**
     * A resumed job's units already done: shown in the count, left out of the rate and the time left, which are
     * measured from now (they were not done by this process).
     */
    synchronized void resumedAt(long done) {
        this.done = done;
        this.resumed = done;
        this.started = clock.getAsLong();
        this.lastShown = started;
    }

    /** One unit done; {@code label} says what is running now. */
    synchronized void step(String label) {
        this.label = label == null ? "" : label;
        done++;
        maybeShow();
    }

    /** Sets the count of units done (for jobs that report "n done" through an {@link IntConsumer}). */
    synchronized void stepTo(long done) {
        this.done = done;
        maybeShow();
    }

    /** This progress as a "done so far" callback for vane-lab jobs. */
    IntConsumer counter() {
        return this::stepTo;
    }

    private void maybeShow() {
        long now = clock.getAsLong();
        if ((now - lastShown) / 1e9 < everySeconds) return;
        lastShown = now;
        show(now, false);
    }

    private void show(long now, boolean last) {
        String line = line(now, last);
        if (terminal) {
            err.print("\r" + line + "\033[K" + (last ? "\n" : ""));
        } else {
            err.println(line);
        }
        err.flush();
        shownAny = true;
    }

    /** "sweep heads: 12/96 (12%), 2.3/s, 36 s left (L3 H1)", or "... 96/96 done in 41 s". */
    String line(long now, boolean last) {
        double seconds = (now - started) / 1e9;
        double rate = seconds > 0 ? (done - resumed) / seconds : 0;
        StringBuilder b = new StringBuilder(task).append(": ").append(done);
        if (total > 0) b.append('/').append(total).append(String.format(Locale.ROOT, " (%d%%)", Math.round(100.0 * done / total)));
        else b.append(" done");
        if (last) {
            b.append(total > 0 ? " done" : "").append(" in ").append(duration(seconds));
            return b.toString();
        }
        b.append(String.format(Locale.ROOT, rate >= 10 ? ", %.0f/s" : rate >= 1 ? ", %.1f/s" : ", %.2f/s", rate));
        if (total > 0 && done > resumed && done < total) b.append(", ").append(duration((total - done) / rate)).append(" left");
        if (!label.isEmpty()) b.append(" (").append(label).append(')');
        return b.toString();
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : s < 3600 ? String.format(Locale.ROOT, "%d:%02d min", s / 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d h", s / 3600, s / 60 % 60);
    }

    /** Ends the line; a job that showed progress also says how long it took. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (shownAny) show(clock.getAsLong(), true);
    }
}
