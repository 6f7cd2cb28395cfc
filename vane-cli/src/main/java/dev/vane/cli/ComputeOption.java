package dev.vane.cli;

import dev.vane.core.tensor.Compute;
import dev.vane.core.tensor.Dnnl;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --compute f32|bf16}: the precision of the large matrix products of every model the command loads
 * ({@link Compute#setDefault}). Mixed into {@link ModelOption}, so every command that takes {@code --model} takes
 * it, and into {@code vane bench}.
 *
 * <pre>{@code
 * @Mixin ComputeOption compute;      // vane bench --compute bf16
 * }</pre>
 */
final class ComputeOption {
    static final String DESCRIPTION = "Precision of the large matrix products (32 tokens or more: prefill, "
            + "extraction, training): f32 (default; matches PyTorch float32) or bf16 (bf16 activations and weights, "
            + "float32 sums, through oneDNN; fast only on CPUs with AVX512_BF16 or AMX, slower than f32 elsewhere). "
            + "Default: VANE_COMPUTE, else f32.";

    /** What is in effect for this command. */
    Compute compute = Compute.F32;

    /**
     * Picocli calls this on every parse, with the default when the option is absent: the process default is set
     * from this command line, not left over from an earlier one run in the same JVM (tests, embedding).
     */
    @Option(names = "--compute", paramLabel = "f32|bf16", converter = Converter.class, description = DESCRIPTION,
            defaultValue = "${sys:vane.compute:-${env:VANE_COMPUTE:-f32}}")
    void compute(Compute compute) {
        this.compute = compute;
        Compute.setDefault(compute);
        if (compute == Compute.BF16 && !Dnnl.usedForBf16()) {
            System.err.println("vane: warning: bf16 products are emulated over the float32 kernels (" + Dnnl.status() + ")");
        }
    }

    /** The precision in effect. */
    Compute effective() {
        return compute;
    }

    /** {@code f32} or {@code bf16}, any case; anything else is a usage error (exit 2). */
    static final class Converter implements CommandLine.ITypeConverter<Compute> {
        @Override
        public Compute convert(String value) {
            try {
                return Compute.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
