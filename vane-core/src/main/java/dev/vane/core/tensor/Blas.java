package dev.vane.core.tensor;

import dev.vane.core.CacheFolder;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * OpenBLAS's float32 matrix product ({@code cblas_sgemm}), called through the FFM API: the compute-bound
 * products (prefill, extraction, training) run at the rate of hand-written assembly for this CPU instead of the
 * Vector API's. The library is the one inside Maven Central's {@code org.bytedeco:openblas} jar (linux-x86_64,
 * a DYNAMIC_ARCH build that picks its kernels for the CPU at load); on first use it is copied out of the jar
 * into the cache folder ({@link CacheFolder}) and loaded from there, so nothing is installed by hand.
 *
 * <p>Each call runs on the calling thread only (OpenBLAS is told to use one thread): the engine's
 * {@link ComputePool} splits the work, so thread counts stay one setting and no second pool competes for the
 * cores. Where the library cannot load (another OS or architecture, no writable folder), {@link #enabled()} is
 * false, {@link #status()} says why, and the pure-Java kernels run; {@code VANE_GEMM=java} (or
 * {@code -Dvane.gemm=java}) chooses them on purpose.
 *
 * <pre>{@code
 * if (Blas.enabled()) {
 *     // c[m, n] = a[m, k] . b[n, k]^T
 *     Blas.sgemm(false, true, m, n, k, MemorySegment.ofArray(a), k, MemorySegment.ofArray(b), k,
 *                0f, MemorySegment.ofArray(c), n);
 * }
 * }</pre>
 */
public final class Blas {
    private static final String RESOURCES = "org/bytedeco/openblas/linux-x86_64/";
    /** Dependencies first; the loader finds them beside libopenblas through its RUNPATH ($ORIGIN). */
    private static final NativeBundle BUNDLE = new NativeBundle(Stream.of(
            "libgcc_s.so.1", "libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0").map(f -> RESOURCES + f).toList());
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private static volatile Use chosen;      // null: as the environment says

    private Blas() {
    }

    /** The loaded library, or why there is none; loaded once, on first use. */
    private static final class Library {
        static final Library INSTANCE = load(Blas.class.getClassLoader(), CacheFolder.resolve());

        final MethodHandle sgemm;
        final String description;
        final String failure;

        private Library(MethodHandle sgemm, String description, String failure) {
            this.sgemm = sgemm;
            this.description = description;
            this.failure = failure;
        }

        static Library load(ClassLoader loader, Path cache) {
            String platform = NativeBundle.platformProblem("OpenBLAS");
            if (platform != null) return new Library(null, null, platform);
            try {
                Path path = BUNDLE.extract(loader, cache);
                Linker linker = Linker.nativeLinker();
                SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
                var i = ValueLayout.JAVA_INT;
                var f = ValueLayout.JAVA_FLOAT;
                var p = ValueLayout.ADDRESS;
                MethodHandle setThreads = linker.downcallHandle(lib.find("openblas_set_num_threads").orElseThrow(),
                        FunctionDescriptor.ofVoid(i));
                MethodHandle corename = linker.downcallHandle(lib.find("openblas_get_corename").orElseThrow(),
                        FunctionDescriptor.of(p));
                MethodHandle config = linker.downcallHandle(lib.find("openblas_get_config").orElseThrow(),
                        FunctionDescriptor.of(p));
                // critical: no thread-state transition (microseconds per call) and heap arrays passed in place
                MethodHandle sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                        FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, p, i, p, i, f, p, i),
                        Linker.Option.critical(true));
                setThreads.invokeExact(1);
                String core = ((MemorySegment) corename.invokeExact()).reinterpret(256).getString(0);
                String cfg = ((MemorySegment) config.invokeExact()).reinterpret(256).getString(0).trim();
                String version = cfg.split(" ").length > 1 ? cfg.split(" ")[1] : "?";
                return new Library(sgemm, "OpenBLAS " + version + " (" + core + " kernels)", null);
            } catch (Throwable t) {
                return new Library(null, null, "OpenBLAS did not load: " + t);
            }
        }
    }

    /**
     * Loads the library as the engine would from {@code loader}'s class path into {@code cache}, and returns why
     * it failed, or null when it loaded (for tests of the fallback).
     */
    static String loadFailure(ClassLoader loader, Path cache) {
        return Library.load(loader, cache).failure;
    }

    /** Which products go to OpenBLAS. */
    public enum Use {
        /** None: the pure-Java kernels (VANE_GEMM=java). */
        NEVER,
        /** Those large enough to gain from it (the default). */
        LARGE,
        /** Every one, however small: lets tests run the OpenBLAS path on small fixtures. */
        ALWAYS
    }

    /** Whether products of this size go to OpenBLAS ({@code large}: the caller's own threshold is met). */
    static boolean use(boolean large) {
        if (Library.INSTANCE.sgemm == null) return false;
        return switch (chosen()) {
            case NEVER -> false;
            case LARGE -> large;
            case ALWAYS -> true;
        };
    }

    /**
     * Whether a product with {@code rows} rows on its streaming side goes to OpenBLAS: from 32 rows on (below,
     * the Java kernels are as fast), or always under {@link Use#ALWAYS}.
     */
    public static boolean useForRows(int rows) {
        return use(rows >= MIN_ROWS);
    }

    /** From this many rows (tokens) on, OpenBLAS beats the Java kernels; below it its rate falls to theirs. */
    static final int MIN_ROWS = 32;

    /** Whether OpenBLAS is loaded and chosen for (at least the large) products. */
    public static boolean enabled() {
        return use(true);
    }

    /**
     * Chooses the kernels for this process; {@code null} goes back to what {@code VANE_GEMM} /
     * {@code -Dvane.gemm} say ({@code java} for {@link Use#NEVER}, else {@link Use#LARGE}).
     */
    public static void choose(Use use) {
        chosen = use;
    }

    /** What VANE_GEMM / -Dvane.gemm say, read once: every product asks. */
    private static final Use CONFIGURED = "java".equalsIgnoreCase(setting()) ? Use.NEVER : Use.LARGE;

    private static Use chosen() {
        Use c = chosen;
        return c != null ? c : CONFIGURED;
    }

    /** One line for reports: which kernels run and, when OpenBLAS does not, why. */
    public static String status() {
        Library lib = Library.INSTANCE;
        if (lib.sgemm == null) return "Java kernels (" + lib.failure + ")";
        if (!enabled()) return "Java kernels (chosen; " + lib.description + " is available)";
        return lib.description;
    }

    private static String setting() {
        String p = System.getProperty("vane.gemm");
        return p != null ? p : System.getenv("VANE_GEMM");
    }

    /**
     * {@code c = op(a) . op(b) + beta * c}, all row-major: op(a) is [m, k], op(b) is [k, n], c is [m, n];
     * {@code transA} means a is stored [k, m], {@code transB} that b is stored [n, k]. Segments may be heap
     * arrays ({@link MemorySegment#ofArray(float[])}, sliced to an offset) or native memory; their extents are
     * checked before the native call, which could otherwise read or write past them.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             MemorySegment a, int lda, MemorySegment b, int ldb,
                             float beta, MemorySegment c, int ldc) {
        if (m == 0 || n == 0) return;
        requireExtent("a", a, transA ? k : m, transA ? m : k, lda);
        requireExtent("b", b, transB ? n : k, transB ? k : n, ldb);
        requireExtent("c", c, m, n, ldc);
        MethodHandle h = Library.INSTANCE.sgemm;
        if (h == null) throw new IllegalStateException(status());
        try {
            h.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1f,
                    a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** A row-major [rows, cols] operand with leading dimension ld must lie inside its segment. */
    private static void requireExtent(String name, MemorySegment s, int rows, int cols, int ld) {
        if (rows < 0 || cols < 0 || ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] with leading dimension " + ld);
        }
        long floats = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (floats * Float.BYTES > s.byteSize()) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] with leading dimension " + ld
                    + " needs " + floats + " floats, the segment holds " + s.byteSize() / Float.BYTES);
        }
    }
}
