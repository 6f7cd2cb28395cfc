package dev.vane.core.tensor;

import dev.vane.core.CacheFolder;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * oneDNN's matrix product ({@code dnnl_matmul}), called through the FFM API: it multiplies bf16 operands with
 * float32 accumulation, as PyTorch does on CPU, at the rate of the CPU's bf16 units where it has them
 * (AVX512_BF16, AMX) and emulated otherwise. OpenBLAS on Maven Central is built without {@code sbgemm}, hence
 * a second library for this one product. The library is the one inside Maven Central's {@code org.bytedeco:dnnl}
 * jar (linux-x86_64, OpenMP build) plus the OpenCL loader it links to ({@code org.bytedeco:opencl}; no GPU is
 * used); on first use both are copied into the cache folder ({@link CacheFolder}) and loaded from there.
 *
 * <p>As with {@link Blas}, each call runs on the calling thread only (OpenMP is told to use one thread on every
 * thread that calls in) and the engine's {@link ComputePool} splits the work. Creating a primitive compiles
 * kernels for its exact shape (milliseconds), so primitives are kept per shape ({@link PrimitiveCache}).
 * Operands are native memory (the mapped weights, or buffers the caller fills), since oneDNN keeps pointers in
 * its memory objects between calls. Where the library cannot load, {@link #enabled()} is false and
 * {@link #status()} says why; {@code VANE_DNNL=off} (or {@code -Dvane.dnnl=off}) turns it off on purpose. The
 * engine sends its bf16 products here only where the CPU has bf16 units ({@link Use}).
 *
 * <pre>{@code
 * if (Dnnl.enabled()) {
 *     // c[m, n] = a[m, k] . b[n, k]^T, a and b bf16, c float32
 *     Dnnl.matmul(false, true, m, n, k, DType.BF16, a, k, DType.BF16, b, k, false, c, n);
 * }
 * }</pre>
 */
public final class Dnnl {
    private static final String DNNL = "org/bytedeco/dnnl/linux-x86_64/";
    /** libdnnl.so.3 needs libgomp.so.1 and libOpenCL.so.1 and finds them beside it (RUNPATH $ORIGIN). */
    private static final NativeBundle BUNDLE = new NativeBundle(List.of(
            DNNL + "libgomp.so.1", "org/bytedeco/opencl/linux-x86_64/libOpenCL.so.1", DNNL + "libdnnl.so.3"));
    private static final int CPU_ENGINE = 1, STREAM_IN_ORDER = 1, SCRATCHPAD_USER = 1;
    private static final int QUERY_IMPL_INFO = 8, QUERY_SCRATCHPAD_MD = 136;
    private static final int ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_SCRATCHPAD = 80;
    /** Shapes whose primitives are kept: a model has a handful of matrix shapes per token count. */
    private static final int CACHED_SHAPES = 256;

    private Dnnl() {
    }

    /** The loaded library, or why there is none; loaded once, on first use. */
    private static final class Library {
        static final Library INSTANCE = load(Dnnl.class.getClassLoader(), CacheFolder.resolve());

        final Api api;
        final MemorySegment engine;
        final PrimitiveCache primitives;
        final String isa;
        final String description;
        final String failure;

        private Library(Api api, MemorySegment engine, String isa, String failure) {
            this.api = api;
            this.isa = isa;
            this.engine = engine;
            this.primitives = api == null ? null : new PrimitiveCache(CACHED_SHAPES, p -> api.destroy(p));
            this.description = api == null ? null : "oneDNN " + version(api) + " (" + isa + ")";
            this.failure = failure;
        }

        private static String version(Api api) {
            try {
                return api.version();
            } catch (Throwable t) {
                return "?";
            }
        }

        static Library load(ClassLoader loader, Path cache) {
            String platform = NativeBundle.platformProblem("oneDNN");
            if (platform != null) return new Library(null, null, null, platform);
            try {
                Path path = BUNDLE.extract(loader, cache);
                Api api = new Api(SymbolLookup.libraryLookup(path, Arena.global()),
                        SymbolLookup.libraryLookup(path.resolveSibling("libgomp.so.1"), Arena.global()));
                MemorySegment engine;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                    api.check("dnnl_engine_create", (int) api.engineCreate.invokeExact(out, CPU_ENGINE, 0L));
                    engine = out.get(ValueLayout.ADDRESS, 0);
                }
                return new Library(api, engine, api.isa(), null);
            } catch (Throwable t) {
                return new Library(null, null, null, "oneDNN did not load: " + t);
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

    /** Which bf16 products go to oneDNN. */
    public enum Use {
        /** None: bf16 products are emulated over the float32 kernels (VANE_DNNL=off). */
        NEVER,
        /**
         * All of them where the CPU has bf16 units (the default). Without them oneDNN emulates bf16 in its own
         * kernels, measured 3x slower than rounding the operands and calling OpenBLAS, which sums the same way.
         */
        WITH_BF16_UNITS,
        /** All of them (VANE_DNNL=on): lets tests and benchmarks run oneDNN on any CPU. */
        ALWAYS
    }

    private static volatile Use chosen;      // null: as the environment says

    /** What VANE_DNNL / -Dvane.dnnl say (off, on, else as the CPU allows), read once. */
    private static final Use CONFIGURED = switch (String.valueOf(setting()).toLowerCase(java.util.Locale.ROOT)) {
        case "off" -> Use.NEVER;
        case "on" -> Use.ALWAYS;
        default -> Use.WITH_BF16_UNITS;
    };

    private static String setting() {
        String p = System.getProperty("vane.dnnl");
        return p != null ? p : System.getenv("VANE_DNNL");
    }

    private static Use chosen() {
        Use c = chosen;
        return c != null ? c : CONFIGURED;
    }

    /** Whether oneDNN is loaded and not turned off ({@link #matmul} may be called). */
    public static boolean enabled() {
        return Library.INSTANCE.api != null && chosen() != Use.NEVER;
    }

    /** Whether oneDNN runs bf16 on the CPU's own units (AVX512_BF16 or AMX), as its instruction set says. */
    public static boolean bf16Units() {
        Library lib = Library.INSTANCE;
        return lib.api != null && (lib.isa.contains("bf16") || lib.isa.contains("amx"));
    }

    /** Whether the engine's bf16 products go to oneDNN (else they are emulated in Java). */
    public static boolean usedForBf16() {
        if (!enabled()) return false;
        return chosen() == Use.ALWAYS || bf16Units();
    }

    /**
     * Chooses which bf16 products go to oneDNN for this process; {@code null} goes back to what {@code VANE_DNNL} /
     * {@code -Dvane.dnnl} say.
     */
    public static void choose(Use use) {
        chosen = use;
    }

    /** One line for reports: the library, its instruction set and whether bf16 products use it, or why not. */
    public static String status() {
        Library lib = Library.INSTANCE;
        if (lib.api == null) return "no oneDNN (" + lib.failure + ")";
        if (!enabled()) return "oneDNN off (VANE_DNNL=off; " + lib.description + " is available)";
        if (!usedForBf16()) return lib.description + "; no bf16 units, so bf16 products are emulated over float32 kernels";
        return lib.description;
    }

    /**
     * The implementation oneDNN picks for this product, e.g. {@code brg_matmul:avx512_core_amx} (for reports: a
     * {@code ref} or {@code gemm} name means the CPU has no units for it).
     */
    public static String implementation(int m, int n, int k, DType aType, DType bType) {
        try (PrimitiveCache.Lease lease = primitive(new Shape(false, true, m, n, k, code(aType), k, code(bType), k, n, false))) {
            return lease.primitive().implementation();
        }
    }

    /**
     * {@code c (+)= op(a) . op(b)}, row-major: op(a) is [m, k], op(b) is [k, n], c is [m, n] float32;
     * {@code transA} means a is stored [k, m], {@code transB} that b is stored [n, k]. Operands a and b are F32 or
     * BF16, all three in native memory (checked, like their extents); {@code accumulate} adds to c instead of
     * overwriting it. Runs on the calling thread.
     */
    public static void matmul(boolean transA, boolean transB, int m, int n, int k,
                              DType aType, MemorySegment a, int lda, DType bType, MemorySegment b, int ldb,
                              boolean accumulate, MemorySegment c, int ldc) {
        if (m == 0 || n == 0) return;
        requireOperand("a", a, aType, transA ? k : m, transA ? m : k, lda);
        requireOperand("b", b, bType, transB ? n : k, transB ? k : n, ldb);
        requireOperand("c", c, DType.F32, m, n, ldc);
        if (k == 0) {
            if (!accumulate) for (int i = 0; i < m; i++) c.asSlice(4L * i * ldc, 4L * n).fill((byte) 0);
            return;
        }
        Library lib = Library.INSTANCE;
        if (lib.api == null) throw new IllegalStateException(status());
        Shape shape = new Shape(transA, transB, m, n, k, code(aType), lda, code(bType), ldb, ldc, accumulate);
        try (PrimitiveCache.Lease lease = primitive(shape)) {
            Primitive p = lease.primitive();
            lib.api.execute(p, lib.engine, a, b, c, SCRATCHPAD.get(p.scratchpadBytes()));
        }
    }

    /** Per-thread scratchpad: oneDNN's buffers for packing operands, reused by every call on the thread. */
    private static final NativeScratch SCRATCHPAD = new NativeScratch();

    private static PrimitiveCache.Lease primitive(Shape shape) {
        Library lib = Library.INSTANCE;
        if (lib.api == null) throw new IllegalStateException(status());
        lib.api.singleThreaded();
        return lib.primitives.acquire(shape, s -> lib.api.create(lib.engine, s));
    }

    private static int code(DType type) {
        return switch (type) {
            case BF16 -> 2;       // dnnl_bf16
            case F32 -> 3;        // dnnl_f32
            default -> throw new IllegalArgumentException("oneDNN products take F32 or BF16 operands, not " + type);
        };
    }

    private static void requireOperand(String name, MemorySegment s, DType type, int rows, int cols, int ld) {
        if (!s.isNative()) throw new IllegalArgumentException(name + ": oneDNN needs native memory, not a heap array");
        if (rows < 0 || cols < 0 || ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] with leading dimension " + ld);
        }
        long elements = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (elements * type.byteSize() > s.byteSize()) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] " + type + " with leading dimension "
                    + ld + " needs " + elements * type.byteSize() + " bytes, the segment holds " + s.byteSize());
        }
    }

    /** A product's shape, types and layout: one primitive each. Types are oneDNN's codes. */
    record Shape(boolean transA, boolean transB, int m, int n, int k, int aType, int lda, int bType, int ldb, int ldc,
                 boolean accumulate) {
    }

    /** A compiled product and its memory descriptors (kept for making memory objects at each call). */
    record Primitive(MemorySegment handle, MemorySegment srcMd, MemorySegment weightsMd, MemorySegment dstMd,
                     MemorySegment scratchpadMd, long scratchpadBytes, String implementation) {
    }

    /** The C functions, bound once. */
    private static final class Api {
        private static final AddressLayout P = ValueLayout.ADDRESS;
        private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;

        final MethodHandle engineCreate, streamCreate, streamWait, streamDestroy, mdCreate, mdClone, mdDestroy, mdSize,
                attrCreate, attrScratchpad, attrPostOps, attrDestroy, postOpsCreate, postOpsSum, postOpsDestroy,
                matmulDesc, pdQuery, pdQueryMd, pdDestroy, primitiveCreate, primitiveDestroy, memoryCreate,
                memoryDestroy, execute, version, effectiveIsa, isaName, ompThreads;

        Api(SymbolLookup dnnl, SymbolLookup gomp) {
            Linker l = Linker.nativeLinker();
            engineCreate = bind(l, dnnl, "dnnl_engine_create", FunctionDescriptor.of(I, P, I, J));
            streamCreate = bind(l, dnnl, "dnnl_stream_create", FunctionDescriptor.of(I, P, P, I));
            streamWait = bind(l, dnnl, "dnnl_stream_wait", FunctionDescriptor.of(I, P));
            streamDestroy = bind(l, dnnl, "dnnl_stream_destroy", FunctionDescriptor.of(I, P));
            mdCreate = bind(l, dnnl, "dnnl_memory_desc_create_with_strides", FunctionDescriptor.of(I, P, I, P, I, P));
            mdClone = bind(l, dnnl, "dnnl_memory_desc_clone", FunctionDescriptor.of(I, P, P));
            mdDestroy = bind(l, dnnl, "dnnl_memory_desc_destroy", FunctionDescriptor.of(I, P));
            mdSize = bind(l, dnnl, "dnnl_memory_desc_get_size", FunctionDescriptor.of(J, P));
            attrCreate = bind(l, dnnl, "dnnl_primitive_attr_create", FunctionDescriptor.of(I, P));
            attrScratchpad = bind(l, dnnl, "dnnl_primitive_attr_set_scratchpad_mode", FunctionDescriptor.of(I, P, I));
            attrPostOps = bind(l, dnnl, "dnnl_primitive_attr_set_post_ops", FunctionDescriptor.of(I, P, P));
            attrDestroy = bind(l, dnnl, "dnnl_primitive_attr_destroy", FunctionDescriptor.of(I, P));
            postOpsCreate = bind(l, dnnl, "dnnl_post_ops_create", FunctionDescriptor.of(I, P));
            postOpsSum = bind(l, dnnl, "dnnl_post_ops_append_sum",
                    FunctionDescriptor.of(I, P, ValueLayout.JAVA_FLOAT, I, I));
            postOpsDestroy = bind(l, dnnl, "dnnl_post_ops_destroy", FunctionDescriptor.of(I, P));
            matmulDesc = bind(l, dnnl, "dnnl_matmul_primitive_desc_create", FunctionDescriptor.of(I, P, P, P, P, P, P, P));
            pdQuery = bind(l, dnnl, "dnnl_primitive_desc_query", FunctionDescriptor.of(I, P, I, I, P));
            pdQueryMd = bind(l, dnnl, "dnnl_primitive_desc_query_md", FunctionDescriptor.of(P, P, I, I));
            pdDestroy = bind(l, dnnl, "dnnl_primitive_desc_destroy", FunctionDescriptor.of(I, P));
            primitiveCreate = bind(l, dnnl, "dnnl_primitive_create", FunctionDescriptor.of(I, P, P));
            primitiveDestroy = bind(l, dnnl, "dnnl_primitive_destroy", FunctionDescriptor.of(I, P));
            memoryCreate = bind(l, dnnl, "dnnl_memory_create", FunctionDescriptor.of(I, P, P, P, P));
            memoryDestroy = bind(l, dnnl, "dnnl_memory_destroy", FunctionDescriptor.of(I, P));
            execute = bind(l, dnnl, "dnnl_primitive_execute", FunctionDescriptor.of(I, P, P, I, P));
            version = bind(l, dnnl, "dnnl_version", FunctionDescriptor.of(P));
            effectiveIsa = bind(l, dnnl, "dnnl_get_effective_cpu_isa", FunctionDescriptor.of(I));
            isaName = bind(l, dnnl, "dnnl_cpu_isa2str", FunctionDescriptor.of(P, I));
            ompThreads = bind(l, gomp, "omp_set_num_threads", FunctionDescriptor.ofVoid(I));
        }

        private static MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor d) {
            return linker.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("no " + name)), d);
        }

        void check(String function, int status) {
            if (status != 0) throw new IllegalStateException(function + " returned dnnl_status " + status);
        }

        String version() throws Throwable {
            MemorySegment v = ((MemorySegment) version.invokeExact()).reinterpret(12);
            return v.get(I, 0) + "." + v.get(I, 4) + "." + v.get(I, 8);
        }

        String isa() throws Throwable {
            int isa = (int) effectiveIsa.invokeExact();
            String name = ((MemorySegment) isaName.invokeExact(isa)).reinterpret(256).getString(0);
            return name.startsWith("cpu_isa_") ? name.substring("cpu_isa_".length()) : name;
        }

        /**
         * OpenMP's thread count is per calling thread (its ICV), so every thread that calls in is told: one. The
         * call is a store into the thread's OpenMP state.
         */
        void singleThreaded() {
            try {
                ompThreads.invokeExact(1);
            } catch (Throwable t) {
                throw new IllegalStateException("omp_set_num_threads failed", t);
            }
        }

        Primitive create(MemorySegment engine, Shape s) {
            MemorySegment src = MemorySegment.NULL, weights = MemorySegment.NULL, dst = MemorySegment.NULL;
            try (Arena arena = Arena.ofConfined()) {
                src = md(arena, s.m(), s.k(), s.aType(), s.transA() ? 1 : s.lda(), s.transA() ? s.lda() : 1);
                weights = md(arena, s.k(), s.n(), s.bType(), s.transB() ? 1 : s.ldb(), s.transB() ? s.ldb() : 1);
                dst = md(arena, s.m(), s.n(), 3, s.ldc(), 1);
                MemorySegment out = arena.allocate(P);
                check("dnnl_primitive_attr_create", (int) attrCreate.invokeExact(out));
                MemorySegment attr = out.get(P, 0);
                MemorySegment pd;
                try {
                    check("dnnl_primitive_attr_set_scratchpad_mode", (int) attrScratchpad.invokeExact(attr, SCRATCHPAD_USER));
                    if (s.accumulate()) {
                        check("dnnl_post_ops_create", (int) postOpsCreate.invokeExact(out));
                        MemorySegment ops = out.get(P, 0);
                        try {
                            check("dnnl_post_ops_append_sum", (int) postOpsSum.invokeExact(ops, 1f, 0, 0));
                            check("dnnl_primitive_attr_set_post_ops", (int) attrPostOps.invokeExact(attr, ops));
                        } finally {
                            int ignored = (int) postOpsDestroy.invokeExact(ops);
                        }
                    }
                    check("dnnl_matmul_primitive_desc_create " + s,
                            (int) matmulDesc.invokeExact(out, engine, src, weights, MemorySegment.NULL, dst, attr));
                    pd = out.get(P, 0);
                } finally {
                    int ignored = (int) attrDestroy.invokeExact(attr);
                }
                try {
                    MemorySegment name = arena.allocate(P);
                    check("dnnl_primitive_desc_query", (int) pdQuery.invokeExact(pd, QUERY_IMPL_INFO, 0, name));
                    String impl = name.get(P, 0).reinterpret(256).getString(0);
                    MemorySegment scratchMd = (MemorySegment) pdQueryMd.invokeExact(pd, QUERY_SCRATCHPAD_MD, 0);
                    long scratch = scratchMd.address() == 0 ? 0 : (long) mdSize.invokeExact(scratchMd);
                    if (scratch > 0) {      // the queried descriptor belongs to pd: keep a copy
                        check("dnnl_memory_desc_clone", (int) mdClone.invokeExact(out, scratchMd));
                        scratchMd = out.get(P, 0);
                    } else {
                        scratchMd = MemorySegment.NULL;
                    }
                    check("dnnl_primitive_create", (int) primitiveCreate.invokeExact(out, pd));
                    return new Primitive(out.get(P, 0), src, weights, dst, scratchMd, scratch, impl);
                } finally {
                    int ignored = (int) pdDestroy.invokeExact(pd);
                }
            } catch (Throwable t) {
                for (MemorySegment md : new MemorySegment[]{src, weights, dst}) {
                    try {
                        if (md.address() != 0) {
                            int ignored = (int) mdDestroy.invokeExact(md);
                        }
                    } catch (Throwable suppressed) {
                        t.addSuppressed(suppressed);
                    }
                }
                if (t instanceof RuntimeException e) throw e;
                throw new IllegalStateException("oneDNN primitive for " + s, t);
            }
        }

        /** A 2-d memory descriptor; it outlives the arena (destroyed with its primitive). */
        private MemorySegment md(Arena arena, long rows, long cols, int type, long rowStride, long colStride) throws Throwable {
            MemorySegment dims = arena.allocateFrom(J, rows, cols);
            MemorySegment strides = arena.allocateFrom(J, rowStride, colStride);
            MemorySegment out = arena.allocate(P);
            check("dnnl_memory_desc_create_with_strides", (int) mdCreate.invokeExact(out, 2, dims, type, strides));
            return out.get(P, 0);
        }

        void destroy(Primitive p) {
            try {
                int a = (int) primitiveDestroy.invokeExact(p.handle());
                int b = (int) mdDestroy.invokeExact(p.srcMd());
                int c = (int) mdDestroy.invokeExact(p.weightsMd());
                int d = (int) mdDestroy.invokeExact(p.dstMd());
                if (p.scratchpadMd().address() != 0) {
                    int e = (int) mdDestroy.invokeExact(p.scratchpadMd());
                }
            } catch (Throwable t) {
                throw new IllegalStateException("destroying a oneDNN primitive", t);
            }
        }

        /**
         * One execution: memory objects wrap the operands for this call only, and a stream of this call (a CPU
         * stream is a small object; sharing one across threads is not allowed).
         */
        void execute(Primitive p, MemorySegment engine, MemorySegment a, MemorySegment b, MemorySegment c,
                     MemorySegment scratchpad) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(P);
                MemorySegment[] memories = new MemorySegment[4];
                MemorySegment stream = MemorySegment.NULL;
                try {
                    memories[0] = memory(out, p.srcMd(), engine, a);
                    memories[1] = memory(out, p.weightsMd(), engine, b);
                    memories[2] = memory(out, p.dstMd(), engine, c);
                    int nargs = 3;
                    if (p.scratchpadBytes() > 0) {
                        memories[3] = memory(out, p.scratchpadMd(), engine, scratchpad);
                        nargs = 4;
                    }
                    MemorySegment args = arena.allocate(16L * nargs, 8);
                    int[] kinds = {ARG_SRC, ARG_WEIGHTS, ARG_DST, ARG_SCRATCHPAD};
                    for (int i = 0; i < nargs; i++) {
                        args.set(I, 16L * i, kinds[i]);
                        args.set(P, 16L * i + 8, memories[i]);
                    }
                    check("dnnl_stream_create", (int) streamCreate.invokeExact(out, engine, STREAM_IN_ORDER));
                    stream = out.get(P, 0);
                    check("dnnl_primitive_execute", (int) execute.invokeExact(p.handle(), stream, nargs, args));
                    check("dnnl_stream_wait", (int) streamWait.invokeExact(stream));
                } finally {
                    if (stream.address() != 0) {
                        int ignored = (int) streamDestroy.invokeExact(stream);
                    }
                    for (MemorySegment m : memories) {
                        if (m != null) {
                            int ignored = (int) memoryDestroy.invokeExact(m);
                        }
                    }
                }
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("dnnl_primitive_execute failed", t);
            }
        }

        private MemorySegment memory(MemorySegment out, MemorySegment md, MemorySegment engine, MemorySegment data)
                throws Throwable {
            check("dnnl_memory_create", (int) memoryCreate.invokeExact(out, md, engine, data));
            return out.get(P, 0);
        }
    }
}
