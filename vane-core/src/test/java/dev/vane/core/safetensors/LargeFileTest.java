package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static dev.vane.core.safetensors.RawFiles.header;
import static dev.vane.core.safetensors.RawFiles.tensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Files beyond the 2 GiB reach of int offsets. They are sparse: only the few bytes written take disk space,
 * and the mapping never touches the holes, so these tests stay fast and cheap.
 */
class LargeFileTest {

    @TempDir
    Path dir;

    @Test
    void readsTensorsBeyondFourGigabytes() throws IOException {
        long hugeElements = (1L << 31) + 4; // more elements than a Java array can hold
        long hugeBytes = hugeElements * 2;
        String header = header(
                tensor("huge", "BF16", "[" + hugeElements + "]", 0, hugeBytes),
                tensor("tail", "F32", "[4]", hugeBytes, hugeBytes + 16));
        byte[] head = RawFiles.headerBytes(header);
        long dataStart = head.length;
        Path path = dir.resolve("large.safetensors");
        try {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(head), 0);
                // The last bf16 element of "huge": -2.5 is 0xC020.
                channel.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 0xC020),
                        dataStart + hugeBytes - 2);
                ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                        .putFloat(1.5f).putFloat(-3f).putFloat(1e9f).putFloat(7f).flip();
                channel.write(tail, dataStart + hugeBytes);
            }
            assertThat(Files.size(path)).isGreaterThan(1L << 32);

            try (SafetensorsFile file = SafetensorsFile.open(path)) {
                TensorInfo tailInfo = file.info("tail");
                assertThat(tailInfo.offset()).isEqualTo(dataStart + hugeBytes).isGreaterThan(1L << 32);
                assertThat(file.readFloats("tail")).containsExactly(1.5f, -3f, 1e9f, 7f);

                MemorySegment huge = file.segment("huge");
                assertThat(huge.byteSize()).isEqualTo(hugeBytes);
                short last = huge.get(FloatCodec.I16_LE, hugeBytes - 2);
                assertThat(FloatCodec.bf16ToFloat(last)).isEqualTo(-2.5f);
                assertThat(huge.get(ValueLayout.JAVA_BYTE, hugeBytes / 2)).isZero(); // a hole reads as zeros

                assertThat(file.info("huge").elementCount()).isEqualTo(hugeElements);
                assertThatThrownBy(() -> file.readFloats("huge"))
                        .isInstanceOf(InvalidInputException.class)
                        .hasMessageContaining("'huge' has " + hugeElements + " elements, too many");
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }

    @Test
    void writerStreamsATensorOverTwoGigabytesThroughAFiller() throws IOException {
        long size = (1L << 31) + 8;
        Path path = dir.resolve("streamed.safetensors");
        try {
            new SafetensorsWriter()
                    .metadata("kind", "benchmark")
                    .add("big", DType.U8, new long[]{size}, destination -> {
                        destination.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                        destination.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 2);
                    })
                    .add("after", DType.F32, new long[]{2}, new float[]{4f, 5f})
                    .write(path);

            try (SafetensorsFile file = SafetensorsFile.open(path)) {
                MemorySegment big = file.segment("big");
                assertThat(big.byteSize()).isEqualTo(size);
                assertThat(big.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 1);
                assertThat(big.get(ValueLayout.JAVA_BYTE, size - 1)).isEqualTo((byte) 2);
                assertThat(file.info("after").offset()).isGreaterThan(1L << 31);
                assertThat(file.readFloats("after")).containsExactly(4f, 5f);
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }
}
