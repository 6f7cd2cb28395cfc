package dev.vane.core.safetensors;

import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    private Stream<Path> listing() throws IOException {
        return Files.list(dir);
    }

    @Test
    void writingOverAnExistingFileReplacesItAndLeavesNoTempFile() throws IOException {
        Path path = dir.resolve("steer.safetensors");
        Files.writeString(path, "old content that is not safetensors");

        new SafetensorsWriter().add("v", DType.F32, new long[]{3}, new float[]{1f, 2f, 3f}).write(path);

        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThat(file.readFloats("v")).containsExactly(1f, 2f, 3f);
        }
        try (Stream<Path> files = listing()) {
            assertThat(files).containsExactly(path);
        }
    }

    @Test
    void writingTwiceGivesTheSecondContent() throws IOException {
        Path path = dir.resolve("v.safetensors");
        new SafetensorsWriter().add("v", DType.F32, new long[]{1}, new float[]{1f}).write(path);
        new SafetensorsWriter().add("w", DType.BF16, new long[]{2}, new float[]{2f, 3f}).write(path);

        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThat(file.names()).containsExactly("w");
            assertThat(file.readFloats("w")).containsExactly(2f, 3f);
        }
    }

    @Test
    void failingFillerLeavesTheOldFileAndNoTempFile() throws IOException {
        Path path = dir.resolve("keep.safetensors");
        new SafetensorsWriter().add("v", DType.F32, new long[]{1}, new float[]{7f}).write(path);
        byte[] before = Files.readAllBytes(path);

        SafetensorsWriter failing = new SafetensorsWriter().add("v", DType.F32, new long[]{1}, destination -> {
            throw new IllegalStateException("simulated crash while writing");
        });
        assertThatThrownBy(() -> failing.write(path)).hasMessage("simulated crash while writing");

        assertThat(Files.readAllBytes(path)).isEqualTo(before);
        try (Stream<Path> files = listing()) {
            assertThat(files).containsExactly(path);
        }
    }

    @Test
    void emptyWriterGivesAValidFile() throws IOException {
        Path path = dir.resolve("empty.safetensors");
        new SafetensorsWriter().write(path);

        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThat(file.names()).isEmpty();
            assertThat(file.metadata()).isEmpty();
        }
        assertThat(Files.size(path)).isEqualTo(16); // "{}" padded to 8 bytes
    }
}
