package dev.vane.core.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors bytes by hand, so tests of the reader do not depend on the writer. */
final class RawFiles {
    private RawFiles() {
    }

    /** 8-byte little-endian header length, the header as given, then {@code data}. */
    static byte[] bytes(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }

    static Path write(Path dir, String name, String header, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), bytes(header, data));
    }

    static Path write(Path dir, String name, String header, int dataBytes) throws IOException {
        return write(dir, name, header, new byte[dataBytes]);
    }

    /** A header entry such as {@code "w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}. */
    static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}".formatted(name, dtype, shape, begin, end);
    }

    static String header(String... tensors) {
        return "{" + String.join(",", tensors) + "}";
    }

    /** A header length prefix and header only (the data section is sized separately). */
    static byte[] headerBytes(String header) {
        return bytes(header, new byte[0]);
    }

    static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
