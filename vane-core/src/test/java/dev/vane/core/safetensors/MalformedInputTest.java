package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static dev.vane.core.safetensors.RawFiles.header;
import static dev.vane.core.safetensors.RawFiles.tensor;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every broken input must fail on open with a message that names the file and the problem. */
class MalformedInputTest {

    @TempDir
    Path dir;

    private static AbstractThrowableAssert<?, ?> assertOpenFails(Path file, String problem) {
        return assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(problem);
    }

    private static AbstractThrowableAssert<?, ?> assertCheckpointFails(Path dir, Path named, String problem) {
        return assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir).close())
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(named + ": ")
                .hasMessageContaining(problem);
    }

    private Path file(String header, int dataBytes) throws IOException {
        return RawFiles.write(dir, "broken.safetensors", header, dataBytes);
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] whole = RawFiles.bytes(header(tensor("w", "F32", "[16]", 0, 64)), new byte[64]);
        Path path = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(whole, whole.length - 30));

        assertOpenFails(path, "tensor 'w': bytes [0, 64) lie outside the data section (34 bytes)");
    }

    @Test
    void fileShorterThanEightBytes() throws IOException {
        Path path = Files.write(dir.resolve("tiny.safetensors"), new byte[5]);

        assertOpenFails(path, "file is too short to be safetensors (5 bytes)");
    }

    @Test
    void emptyFile() throws IOException {
        assertOpenFails(Files.write(dir.resolve("empty.safetensors"), new byte[0]), "(0 bytes)");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        byte[] bytes = new byte[120];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(9000);
        Path path = Files.write(dir.resolve("long.safetensors"), bytes);

        assertOpenFails(path, "header length 9000 runs past the end of the file (120 bytes)");
    }

    @Test
    void headerLengthWithTopBitSetIsTreatedAsUnsigned() throws IOException {
        byte[] bytes = new byte[16];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        Path path = Files.write(dir.resolve("huge.safetensors"), bytes);

        assertOpenFails(path, "header length 18446744073709551615 runs past the end of the file (16 bytes)");
    }

    @Test
    void headerLengthZero() throws IOException {
        assertOpenFails(Files.write(dir.resolve("zero.safetensors"), new byte[8]), "header length is 0");
    }

    @Test
    void headerOverTheSizeLimit() throws IOException {
        long headerLength = SafetensorsFile.MAX_HEADER_BYTES + 1;
        Path path = dir.resolve("bighead.safetensors");
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerLength));
            channel.write(ByteBuffer.wrap(new byte[]{' '}), 8 + headerLength - 1); // sparse: no 100 MiB on disk
        }

        assertOpenFails(path, "header length " + headerLength + " exceeds the limit");
    }

    @Test
    void headerNotJson() throws IOException {
        assertOpenFails(file("{\"w\": [not json", 0), "header is not JSON: ");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] bytes = RawFiles.bytes("{\"w\":1}", new byte[0]);
        bytes[10] = (byte) 0xC3; // lead byte without its continuation byte
        Path path = Files.write(dir.resolve("latin1.safetensors"), bytes);

        assertOpenFails(path, "header is not valid UTF-8");
    }

    @Test
    void headerJsonButNotAnObject() throws IOException {
        assertOpenFails(file("[1, 2, 3]", 0), "header is not a JSON object");
    }

    @Test
    void headerWithTrailingGarbage() throws IOException {
        assertOpenFails(file("{} {}", 0), "header is not JSON");
    }

    @Test
    void duplicateTensorName() throws IOException {
        assertOpenFails(file(header(tensor("w", "U8", "[1]", 0, 1), tensor("w", "U8", "[1]", 1, 2)), 2),
                "header is not JSON: Duplicate field 'w'");
    }

    @Test
    void unknownDtype() throws IOException {
        assertOpenFails(file(header(tensor("w", "Q4", "[2]", 0, 1)), 1), "tensor 'w': unknown dtype 'Q4'");
    }

    @Test
    void rangeOutsideDataSection() throws IOException {
        assertOpenFails(file(header(tensor("w", "F32", "[4]", 8, 24)), 16),
                "tensor 'w': bytes [8, 24) lie outside the data section (16 bytes)");
    }

    @Test
    void sizeDoesNotMatchShape() throws IOException {
        assertOpenFails(file(header(tensor("w", "BF16", "[4, 8]", 0, 96)), 96),
                "tensor 'w': 96 bytes but shape [4, 8] x BF16 needs 64");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertOpenFails(file(header(tensor("a", "F32", "[4]", 0, 16), tensor("b", "F32", "[4]", 8, 24)), 24),
                "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
    }

    @Test
    void negativeDimension() throws IOException {
        assertOpenFails(file(header(tensor("w", "F32", "[-4]", 0, 16)), 16),
                "tensor 'w': shape is not an array of non-negative integers");
    }

    @Test
    void fractionalDimension() throws IOException {
        assertOpenFails(file(header(tensor("w", "F32", "[4.5]", 0, 16)), 16), "tensor 'w': shape is not");
    }

    @Test
    void shapeNotAnArray() throws IOException {
        assertOpenFails(file(header(tensor("w", "F32", "\"4\"", 0, 16)), 16), "tensor 'w': shape is not");
    }

    @Test
    void offsetsEndBeforeTheyBegin() throws IOException {
        assertOpenFails(file(header(tensor("w", "U8", "[0]", 8, 4)), 16), "tensor 'w': data_offsets [8, 4]");
    }

    @Test
    void offsetsNotTwoIntegers() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1),
                "tensor 'w': data_offsets is not 2 non-negative integers");
    }

    @Test
    void missingDtype() throws IOException {
        assertOpenFails(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 'w': dtype is missing");
    }

    @Test
    void nonStringMetadata() throws IOException {
        assertOpenFails(file("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}", 0),
                "__metadata__ value for 'step' is not a string");
    }

    @Test
    void missingFile() {
        assertOpenFails(dir.resolve("absent.safetensors"), "file does not exist");
    }

    @Test
    void missingTensor() throws IOException {
        Path path = file(header(tensor("w", "U8", "[1]", 0, 1)), 1);
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThatThrownBy(() -> file.info("x"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("tensor 'x' not found in " + path);
            assertThatThrownBy(() -> file.segment("x")).isInstanceOf(InvalidInputException.class);
        }
    }

    // Sharded checkpoints.

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":8},\"weight_map\":" + weightMap + "}", StandardCharsets.UTF_8);
    }

    private void shard(String name, String... tensorNames) throws IOException {
        String[] entries = new String[tensorNames.length];
        for (int i = 0; i < tensorNames.length; i++) {
            entries[i] = tensor(tensorNames[i], "F32", "[1]", 4L * i, 4L * i + 4);
        }
        RawFiles.write(dir, name, header(entries), 4 * tensorNames.length);
    }

    @Test
    void validShardedCheckpoint() throws IOException {
        shard("a.safetensors", "x");
        shard("b.safetensors", "y", "z");
        index("{\"x\":\"a.safetensors\",\"y\":\"b.safetensors\",\"z\":\"b.safetensors\"}");

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            org.assertj.core.api.Assertions.assertThat(checkpoint.names()).containsExactly("x", "y", "z");
            org.assertj.core.api.Assertions.assertThat(checkpoint.info("z").offset())
                    .isEqualTo(Files.size(dir.resolve("b.safetensors")) - 4);
            assertThatThrownBy(() -> checkpoint.info("q"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("tensor 'q' not found in " + dir);
        }
    }

    @Test
    void indexNamesMissingShard() throws IOException {
        shard("a.safetensors", "x");
        index("{\"x\":\"a.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}");

        assertCheckpointFails(dir, dir.resolve("model.safetensors.index.json"),
                "shard 'model-00002-of-00002.safetensors' named in weight_map does not exist");
    }

    @Test
    void indexNamesTensorAbsentFromItsShard() throws IOException {
        shard("a.safetensors", "x");
        index("{\"x\":\"a.safetensors\",\"ghost\":\"a.safetensors\"}");

        assertCheckpointFails(dir, dir.resolve("model.safetensors.index.json"),
                "tensor 'ghost' in shard 'a.safetensors', but " + dir.resolve("a.safetensors") + " does not contain it");
    }

    @Test
    void indexWithParentPath() throws IOException {
        Path inner = Files.createDirectory(dir.resolve("model"));
        shard("outside.safetensors", "x"); // exists, one level up: must still be refused
        Files.writeString(inner.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"x\":\"../outside.safetensors\"}}");

        assertCheckpointFails(inner, inner.resolve("model.safetensors.index.json"),
                "names shard '../outside.safetensors', which is not a plain file name");
    }

    @Test
    void indexWithAbsolutePath() throws IOException {
        shard("a.safetensors", "x");
        index("{\"x\":\"" + dir.resolve("a.safetensors") + "\"}");

        assertCheckpointFails(dir, dir.resolve("model.safetensors.index.json"), "is not a plain file name");
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");

        assertCheckpointFails(dir, dir.resolve("model.safetensors.index.json"), "has no weight_map");
    }

    @Test
    void brokenShardIsReportedByItsOwnPath() throws IOException {
        RawFiles.write(dir, "a.safetensors", header(tensor("x", "Q4", "[1]", 0, 1)), 1);
        index("{\"x\":\"a.safetensors\"}");

        assertCheckpointFails(dir, dir.resolve("a.safetensors"), "unknown dtype 'Q4'");
    }

    @Test
    void directoryWithoutModel() throws IOException {
        shard("reference.safetensors", "x"); // test data, not a model

        assertCheckpointFails(dir, dir, "no model.safetensors or model.safetensors.index.json");
    }

    @Test
    void directoryWithSeveralCandidates() throws IOException {
        shard("a.safetensors", "x");
        shard("b.safetensors", "y");

        assertCheckpointFails(dir, dir, "no model.safetensors or model.safetensors.index.json")
                .hasMessageContaining("a.safetensors").hasMessageContaining("b.safetensors");
    }
}
