package dev.vane.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Progress without a terminal: a plain line every few seconds (done/total, rate, time left), as logs need. */
class ProgressTest {
    private long now;

    private Progress plain(String task, long total, StringWriter sink) {
        return new Progress(task, total, new PrintWriter(sink, true), false, 5, () -> now);
    }

    @Test
    void withoutATerminalAPlainLineEveryFewSecondsWithRateAndTimeLeft() {
        StringWriter sink = new StringWriter();
        try (Progress p = plain("sweep heads", 100, sink)) {
            for (int i = 0; i < 10; i++) {
                now += 400_000_000L;            // 0.4 s per unit: 2.5 units/s
                p.step("L0 H" + i);
            }
            assertThat(sink.toString()).as("4 s in: nothing yet").isEmpty();
            for (int i = 10; i < 20; i++) {
                now += 400_000_000L;
                p.step("L1 H" + i);
            }
        }
        assertThat(sink.toString().lines().toList()).containsExactly(
                "sweep heads: 13/100 (13%), 2.5/s, 35 s left (L1 H12)",
                "sweep heads: 20/100 (20%) done in 8 s");
    }

    @Test
    void anUnknownTotalShowsTheCountNotAQuestionMark() {
        StringWriter sink = new StringWriter();
        try (Progress p = plain("directions", -1, sink)) {
            now += 6_000_000_000L;
            p.stepTo(48);
        }
        assertThat(sink.toString()).startsWith("directions: 48 done, 8.0/s\n").doesNotContain("?");
    }

    @Test
    void aResumedJobsRateCountsOnlyTheUnitsDoneSinceItResumed() {
        StringWriter sink = new StringWriter();
        try (Progress p = plain("train", -1, sink)) {
            now += 6_000_000_000L;              // loading took 6 s
            p.total(400);
            p.resumedAt(200);                   // 200 steps were done by an earlier process
            assertThat(sink.toString()).as("resuming is not progress").isEmpty();
            for (int i = 0; i < 12; i++) {
                now += 500_000_000L;            // 2 steps/s from here
                p.step("loss");
            }
        }
        assertThat(sink.toString().lines().toList()).containsExactly(
                "train: 210/400 (53%), 2.0/s, 1:35 min left (loss)",
                "train: 212/400 (53%) done in 6 s");
    }

    @Test
    void aShortJobStaysQuiet() {
        StringWriter sink = new StringWriter();
        try (Progress p = plain("kl", 3, sink)) {
            p.step("a");
            p.step("b");
        }
        assertThat(sink.toString()).isEmpty();
    }

    @Test
    void attackDecodingReportsProgressWhenStderrIsNotATerminal(@TempDir Path dir) {
        System.setProperty("vane.progress.seconds", "0");
        try {
            CliRun run = CliRun.of("attack", "decoding", "--data", Path.of(System.getProperty("vane.home"), "models/organism-data/harmful.jsonl").toString(), "--grid", "quick",
                    "--limit", "1", "--max-tokens", "8", "--out", dir.resolve("run").toString());
            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(run.err()).containsPattern("attack-decoding: 1/9 \\(11%\\), [0-9.]+/s, [0-9:]+ (s|min) left")
                    .contains("attack-decoding: 9/9 (100%) done in ");
        } finally {
            System.clearProperty("vane.progress.seconds");
        }
    }
}
