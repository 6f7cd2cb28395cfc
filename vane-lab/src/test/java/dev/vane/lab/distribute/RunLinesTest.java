package dev.vane.lab.distribute;

import dev.vane.lab.run.ResultsLog;
import dev.vane.lab.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RunLinesTest {
    @TempDir
    Path tmp;

    @Test
    void aLineWhoseIdIsWrittenAlreadyIsDroppedAndNotPassedOn() throws Exception {
        ResultsLog results = ResultsLog.open(tmp.resolve("results.jsonl")), steps = ResultsLog.open(tmp.resolve("steps.jsonl"));
        List<String> heard = new ArrayList<>();
        RunLines lines = new RunLines(results).with("steps.jsonl", steps).then(l -> heard.add(l.log() + ":" + l.id()));
        lines.accept(WorkLine.result(RunDirectory.object().put("id", "a").put("metric", 1.0)));
        // A task run again after its executor was lost hands its lines back a second time.
        lines.accept(WorkLine.result(RunDirectory.object().put("id", "a").put("metric", 1.0)));
        lines.accept(new WorkLine("steps.jsonl", RunDirectory.object().put("id", "a")));
        lines.accept(WorkLine.result(RunDirectory.object().put("id", "b").put("metric", 2.0)));

        assertThat(Files.readAllLines(tmp.resolve("results.jsonl"))).hasSize(2);
        assertThat(Files.readAllLines(tmp.resolve("steps.jsonl"))).hasSize(1);
        assertThat(lines.dropped()).isEqualTo(1);
        assertThat(heard).containsExactly("results.jsonl:a", "steps.jsonl:a", "results.jsonl:b");
        assertThatThrownBy(() -> lines.accept(new WorkLine("other.jsonl", RunDirectory.object().put("id", "c"))))
                .hasMessageContaining("other.jsonl");
    }

    @Test
    void theLocalExecutorRunsEveryTaskInOrderWithTheWorkerOfThisJvm() {
        List<WorkItem> items = List.of(WorkItem.of("x", RunDirectory.object().put("v", 1)),
                WorkItem.of("y", RunDirectory.object().put("v", 2)), WorkItem.of("z", RunDirectory.object().put("v", 3)));
        int[] built = {0};
        Work work = new Work("test", WorkerFactory.class, () -> {
            throw new AssertionError("the local executor needs no setup");
        }, List.of(items.subList(0, 2), items.subList(2, 3)), () -> {
            built[0]++;
            return (task, out) -> task.forEach(i -> out.accept(WorkLine.result(RunDirectory.object().put("id", i.id())
                    .put("twice", 2 * i.json().get("v").asInt()))));
        });
        List<String> written = new ArrayList<>();
        WorkExecutor.local().execute(work, l -> written.add(l.id() + "=" + l.line().get("twice").asInt()));
        assertThat(written).containsExactly("x=2", "y=4", "z=6");
        assertThat(built[0]).isEqualTo(1);
        assertThat(work.items()).isEqualTo(3);
    }
}
