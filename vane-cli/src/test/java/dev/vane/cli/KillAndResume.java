package dev.vane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A resumable command started as its own JVM and killed -9 at moments read off its run directory, started again
 * on the same {@code --out}, finally run to completion; then its result rows are compared with an uninterrupted
 * run's, row for row.
 *
 * <p>Three situations: killed before the first row (its config.json is written, no row is); killed mid-run, after
 * the first row (once half the rows are written), with a half-written line then appended, as a kill during a
 * write leaves one; then the rerun that finishes. Moments are observed, not timed: the test polls the files and
 * kills as soon as the moment is there. Each child JVM costs seconds of start-up and warm-up on a small machine,
 * so there are two per command, not one per row.
 *
 * <pre>{@code
 * KillAndResume.Outcome o = new KillAndResume(tmp, List.of("attack", "prefill", "--data", file, "--limit", "3"))
 *         .run();
 * assertThat(o.resumed()).isEqualTo(o.uninterrupted());
 * }</pre>
 */
final class KillAndResume {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What happened: the rows of both runs, and the rows on disk at each kill. */
    record Outcome(Map<String, JsonNode> uninterrupted, Map<String, JsonNode> resumed, List<Integer> rowsAtKills,
                   Path uninterruptedDir, Path resumedDir, String resumedErr) {
    }

    private final Path tmp;
    private final Function<Path, List<String>> argsFor;
    private Consumer<Path> prepare = dir -> { };
    private Predicate<Path> started = dir -> Files.exists(dir.resolve("config.json"));
    private Runnable afterFirstKill = () -> { };
    private List<String> resultFiles = List.of("results.jsonl");
    private Set<String> wallClockFields = Set.of();
    private Function<Path, List<String>> referenceArgs = dir -> List.of();
    private int expectedExitCode = 0;

    /** A command that writes its run to {@code --out DIR}: {@code args} without it. */
    KillAndResume(Path tmp, List<String> args) {
        this(tmp, dir -> {
            List<String> all = new ArrayList<>(args);
            all.addAll(List.of("--out", dir.toString()));
            return all;
        });
    }

    /** A command whose arguments for a given run directory {@code argsFor} gives (judge: {@code --input DIR}). */
    KillAndResume(Path tmp, Function<Path, List<String>> argsFor) {
        this.tmp = tmp;
        this.argsFor = argsFor;
    }

    /** Fills a run directory before the first start (judge: the answers it scores). */
    KillAndResume prepare(Consumer<Path> setUp) {
        this.prepare = setUp;
        return this;
    }

    /** When the run has begun but written no row (default: its config.json exists). */
    KillAndResume startedWhen(Predicate<Path> begun) {
        this.started = begun;
        return this;
    }

    /** The row files, relative to the run directory ("results.jsonl"; "*&#47;results.jsonl" for one level down too). */
    KillAndResume resultFiles(String... files) {
        this.resultFiles = List.of(files);
        return this;
    }

    /** Runs once the first start is killed (judge: lets the held endpoint answer again). */
    KillAndResume afterFirstKill(Runnable action) {
        this.afterFirstKill = action;
        return this;
    }

    /** Fields that hold wall-clock measurements (seconds taken), which no two runs share; left out of the comparison. */
    KillAndResume wallClockFields(String... fields) {
        this.wallClockFields = Set.of(fields);
        return this;
    }

    /** Extra arguments for the uninterrupted run, read from the killed run's directory (its stored seed). */
    KillAndResume referenceArgs(Function<Path, List<String>> extra) {
        this.referenceArgs = extra;
        return this;
    }

    /** The exit code both runs end with (judge: 2 when no reply had a score). */
    KillAndResume exitCode(int code) {
        this.expectedExitCode = code;
        return this;
    }

    Outcome run() throws Exception {
        Path killed = Files.createDirectories(tmp.resolve("killed"));
        Path reference = Files.createDirectories(tmp.resolve("uninterrupted"));
        prepare.accept(killed);
        prepare.accept(reference);
        List<Integer> atKills = new ArrayList<>();
        atKills.add(killAt(killed, 0, started, "before the first row"));
        afterFirstKill.run();
        assertThat(atKills.getFirst()).as("rows at the kill before the first row").isZero();

        List<String> refArgs = new ArrayList<>(argsFor.apply(reference));
        refArgs.addAll(referenceArgs.apply(killed));
        CliRun whole = CliRun.of(refArgs.toArray(String[]::new));
        assertThat(whole.exitCode()).as(whole.err()).isEqualTo(expectedExitCode);
        int total = rows(reference);
        assertThat(total).as("an uninterrupted run's rows").isGreaterThanOrEqualTo(3);

        atKills.add(killAt(killed, 1, dir -> rows(dir) >= Math.max(1, total / 2), "mid-run"));
        assertThat(atKills.getLast()).as("the mid-run kill came after the first row and before the last")
                .isBetween(1, total - 1);
        appendTornLine(killed);

        CliRun resumed = CliRun.of(argsFor.apply(killed).toArray(String[]::new));
        assertThat(resumed.exitCode()).as(resumed.err()).isEqualTo(expectedExitCode);
        return new Outcome(table(reference), table(killed), atKills, reference, killed, resumed.err());
    }

    /** Starts the command on {@code out}, kills it -9 once {@code moment} holds; the rows then on disk. */
    private int killAt(Path out, int index, Predicate<Path> moment, String name) throws Exception {
        Path log = tmp.resolve("child-" + index + ".log");
        try (VaneProcess child = VaneProcess.start(log, argsFor.apply(out))) {
            while (!moment.test(out)) {
                if (!child.isAlive()) {
                    throw new AssertionError("the command ended before the moment \"" + name + "\" (exit "
                            + child.waitFor() + "): " + child.log());
                }
                Thread.sleep(2);
            }
            child.kill();
        }
        return rows(out);
    }

    /** What a kill in the middle of writing a row leaves: a last line without its end. */
    private void appendTornLine(Path out) throws IOException {
        Path file = files(out).getFirst();
        Files.writeString(file, "{\"id\": \"torn-by-a-kill\", \"respo", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Complete lines in the row files (a line cut short by a kill does not count). */
    int rows(Path dir) {
        int n = 0;
        for (Path f : files(dir)) {
            try {
                for (byte b : Files.readAllBytes(f)) if (b == '\n') n++;
            } catch (IOException e) {
                // not there yet, or being replaced
            }
        }
        return n;
    }

    private List<Path> files(Path dir) {
        List<Path> out = new ArrayList<>();
        for (String f : resultFiles) {
            if (f.startsWith("*/")) {
                if (Files.exists(dir.resolve(f.substring(2)))) out.add(dir.resolve(f.substring(2)));
                if (!Files.isDirectory(dir)) continue;
                try (Stream<Path> subs = Files.list(dir)) {
                    subs.filter(Files::isDirectory).map(d -> d.resolve(f.substring(2))).filter(Files::exists).sorted()
                            .forEach(out::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                out.add(dir.resolve(f));
            }
        }
        return out;
    }

    /** Every row of the row files by file and id, wall-clock fields left out; no id may appear twice. */
    private Map<String, JsonNode> table(Path dir) throws IOException {
        Map<String, JsonNode> rows = new TreeMap<>();
        for (Path f : files(dir)) {
            String where = dir.relativize(f).toString();
            List<String> lines = Files.readAllLines(f);
            for (String line : lines) {
                ObjectNode row = (ObjectNode) JSON.readTree(line);
                row.remove(wallClockFields);
                JsonNode previous = rows.put(where + " " + row.get("id").asText(), row);
                assertThat(previous).as("row " + row.get("id") + " of " + f + " written twice").isNull();
            }
        }
        return rows;
    }
}
