package dev.vane.lab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Whether this CPU has bf16 matrix units, read from the {@code flags} line of {@code /proc/cpuinfo}: without
 * {@code avx512_bf16} or {@code amx_bf16}, oneDNN emulates bf16 products and they run slower than float32, so a
 * bf16 rate means nothing unless the reader knows which.
 *
 * <pre>{@code
 * String units = CpuBf16.describe(Path.of("/proc/cpuinfo"));   // "avx512_bf16, amx_bf16" or "none (...)"
 * }</pre>
 */
public final class CpuBf16 {
    private static final List<String> FLAGS = List.of("avx512_bf16", "amx_bf16");

    private CpuBf16() {
    }

    /** The bf16 flags the CPU has, comma-separated; "none (...)" or "unknown (...)" otherwise. */
    public static String describe(Path cpuinfo) {
        String text;
        try {
            text = Files.readString(cpuinfo);
        } catch (IOException e) {
            return "unknown (" + cpuinfo + " unreadable)";
        }
        for (String line : text.split("\n")) {
            if (!line.startsWith("flags")) continue;
            Set<String> flags = Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
            List<String> have = new ArrayList<>();
            for (String f : FLAGS) if (flags.contains(f)) have.add(f);
            return have.isEmpty() ? "none (no avx512_bf16 or amx_bf16: bf16 is emulated)" : String.join(", ", have);
        }
        return "unknown (no flags line in " + cpuinfo + ")";
    }

    /** {@link #describe(Path)} of this machine. */
    public static String describe() {
        return describe(Path.of("/proc/cpuinfo"));
    }
}
