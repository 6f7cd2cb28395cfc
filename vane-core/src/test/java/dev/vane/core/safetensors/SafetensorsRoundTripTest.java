package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsRoundTripTest {

    @TempDir
    Path dir;

    private static final float[] F32_VALUES = {1.0f, -2.5f, 3.14159f, 0f, 1e-3f, -7.25f};
    private static final float[] BF16_VALUES = {1.0f, -2.5f, 3.14159f, 100.0f};
    private static final float[] F16_VALUES = {1.0f, -2.5f, 0.333f};

    private Path writeSample() throws IOException {
        Path path = dir.resolve("sample.safetensors");
        new SafetensorsWriter()
                .metadata("method", "caa")
                .metadata("layer", "13")
                .add("z.f32", DType.F32, new long[]{2, 3}, F32_VALUES)
                .add("a.bf16", DType.BF16, new long[]{4}, BF16_VALUES)
                .add("m.f16", DType.F16, new long[]{3}, F16_VALUES)
                .addRaw("raw.i64", DType.I64, new long[]{2}, ByteBuffer.allocate(16)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(42).array())
                .write(path);
        return path;
    }

    @Test
    void readsBackNamesShapesDtypesAndMetadata() throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(writeSample())) {
            assertThat(file.names()).containsExactly("a.bf16", "m.f16", "raw.i64", "z.f32"); // sorted
            assertThat(file.metadata()).containsExactlyInAnyOrderEntriesOf(
                    java.util.Map.of("method", "caa", "layer", "13"));
            assertThat(file.info("z.f32").dtype()).isEqualTo(DType.F32);
            assertThat(file.info("z.f32").shape()).containsExactly(2, 3);
            assertThat(file.info("a.bf16").dtype()).isEqualTo(DType.BF16);
            assertThat(file.info("m.f16").dtype()).isEqualTo(DType.F16);
            assertThat(file.info("m.f16").byteSize()).isEqualTo(6);
            assertThat(file.contains("a.bf16")).isTrue();
            assertThat(file.contains("nope")).isFalse();
        }
    }

    @Test
    void readsBackExactValues() throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(writeSample())) {
            assertThat(file.readFloats("z.f32")).containsExactly(F32_VALUES);
            assertThat(file.readFloats("a.bf16")).containsExactly(1.0f, -2.5f, 3.140625f, 100.0f);
            float[] f16 = new float[F16_VALUES.length];
            for (int i = 0; i < f16.length; i++) {
                f16[i] = Float.float16ToFloat(Float.floatToFloat16(F16_VALUES[i]));
            }
            assertThat(file.readFloats("m.f16")).containsExactly(f16);
            assertThat(f16[2]).isNotEqualTo(0.333f); // so the line above really checks the f16 rounding
        }
    }

    @Test
    void tensorsAreLaidOutInInsertionOrder() throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(writeSample())) {
            long z = file.info("z.f32").offset();
            long a = file.info("a.bf16").offset();
            long m = file.info("m.f16").offset();
            long raw = file.info("raw.i64").offset();
            assertThat(z).isLessThan(a);
            assertThat(a).isLessThan(m);
            assertThat(m).isLessThan(raw);
            assertThat(a).isEqualTo(z + 24);
        }
    }

    @Test
    void headerIsSpacePaddedToEightBytes() throws IOException {
        byte[] bytes = Files.readAllBytes(writeSample());
        long headerLength = RawFiles.littleEndian(bytes).getLong(0);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);

        assertThat(headerLength % 8).isZero();
        assertThat(header).startsWith("{").contains("\"__metadata__\":{\"method\":\"caa\",\"layer\":\"13\"}");
        assertThat(header.stripTrailing()).endsWith("}");
        assertThat(header.substring(header.stripTrailing().length())).matches(" {0,7}");
        assertThat(bytes.length).isEqualTo(8 + headerLength + 24 + 8 + 6 + 16);
    }

    @Test
    void segmentHoldsExactlyTheWrittenBytes() throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(writeSample())) {
            MemorySegment bf16 = file.segment("a.bf16");
            // 1.0, -2.5, 3.140625, 100.0 as bf16, little-endian.
            assertThat(bf16.toArray(ValueLayout.JAVA_BYTE)).containsExactly(
                    0x80, 0x3F, 0x20, 0xC0, 0x49, 0x40, 0xC8, 0x42);
            assertThat(file.segment("raw.i64").toArray(ValueLayout.JAVA_BYTE)).containsExactly(
                    ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(42).array());

            byte[] f32 = file.segment("z.f32").toArray(ValueLayout.JAVA_BYTE);
            ByteBuffer expected = ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float v : F32_VALUES) {
                expected.putFloat(v);
            }
            assertThat(f32).containsExactly(expected.array());
            assertThat(file.segment("z.f32").isReadOnly()).isTrue();
        }
    }

    @Test
    void writesRawBytesFromSegmentAndFiller() throws IOException {
        Path path = dir.resolve("raw.safetensors");
        byte[] six = {1, 2, 3, 4, 5, 6};
        new SafetensorsWriter()
                .addRaw("seg", DType.U8, new long[]{2, 3}, MemorySegment.ofArray(six))
                .add("filled", DType.U16, new long[]{3}, dst -> dst.fill((byte) 9))
                .add("empty", DType.F32, new long[]{0, 5}, new float[0])
                .write(path);

        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThat(file.segment("seg").toArray(ValueLayout.JAVA_BYTE)).containsExactly(six);
            assertThat(file.segment("filled").toArray(ValueLayout.JAVA_BYTE)).containsExactly(9, 9, 9, 9, 9, 9);
            assertThat(file.info("empty").byteSize()).isZero();
            assertThat(file.readFloats("empty")).isEmpty();
            assertThat(file.metadata()).isEmpty();
        }
    }

    @Test
    void readFloatsRejectsNonFloatTensors() throws IOException {
        Path path = writeSample();
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThatThrownBy(() -> file.readFloats("raw.i64"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith(path.toString())
                    .hasMessageContaining("'raw.i64' is I64");
        }
    }

    @Test
    void segmentsBecomeInvalidAfterClose() throws IOException {
        SafetensorsFile file = SafetensorsFile.open(writeSample());
        MemorySegment segment = file.segment("z.f32");
        file.close();
        file.close(); // harmless

        assertThatThrownBy(() -> segment.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> file.segment("z.f32")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void tensorSourceOpensFilesAndDirectories() throws IOException {
        Path file = writeSample();
        try (TensorSource source = TensorSource.open(file)) {
            assertThat(source).isInstanceOf(SafetensorsFile.class);
            assertThat(source.path()).isEqualTo(file);
        }
        Files.move(file, dir.resolve("model.safetensors"));
        try (TensorSource source = TensorSource.open(dir)) {
            assertThat(source).isInstanceOf(SafetensorsCheckpoint.class);
            assertThat(source.path()).isEqualTo(dir);
            assertThat(source.readFloats("a.bf16")).containsExactly(1.0f, -2.5f, 3.140625f, 100.0f);
        }
    }

    @Test
    void writerRejectsInconsistentInput() {
        SafetensorsWriter writer = new SafetensorsWriter().add("w", DType.F32, new long[]{2}, new float[2]);

        assertThatThrownBy(() -> writer.add("w", DType.F32, new long[]{2}, new float[2]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already");
        assertThatThrownBy(() -> writer.add("x", DType.F32, new long[]{2, 2}, new float[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 values");
        assertThatThrownBy(() -> writer.add("x", DType.I32, new long[]{2}, new float[2]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("I32");
        assertThatThrownBy(() -> writer.addRaw("x", DType.BF16, new long[]{2, 3}, new byte[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 12");
        assertThatThrownBy(() -> writer.add("__metadata__", DType.F32, new long[]{1}, new float[1]))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void floatArrayIsCopiedWhenAdded() throws IOException {
        float[] values = {1f, 2f};
        SafetensorsWriter writer = new SafetensorsWriter().add("w", DType.F32, new long[]{2}, values);
        Arrays.fill(values, 5f);
        Path path = dir.resolve("copy.safetensors");
        writer.write(path);

        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertThat(file.readFloats("w")).containsExactly(1f, 2f);
        }
    }
}
