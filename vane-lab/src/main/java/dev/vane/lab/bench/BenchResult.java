package dev.vane.lab.bench;

/**
 * The figures of one benchmark run (medians over the runs).
 *
 * @param shape                the model shape
 * @param threads              compute threads
 * @param loadS                seconds to open and validate the checkpoint (weights are mapped, not read)
 * @param prefillTokS          tokens/s of one 512-token prompt (logits of the last position only)
 * @param extractTokS          tokens/s of 32 x 64 tokens with every layer's resid_post cached, no logits
 * @param decodeTokS128        tokens/s of single-token steps after a 128-token context
 * @param decodeTokS1024       the same after 1024 tokens
 * @param steerOverheadPct     extra decode time with a vector added at every layer's resid_post, in %
 * @param peakRssMb            the process's peak resident memory
 * @param bandwidthGbS         memory bandwidth from a STREAM triad
 * @param decodeBandwidthPct   weight bytes per token / time per token (context 128) / bandwidth, in %
 * @param weightBytesPerToken  bytes of weights one decode step reads
 * @param gemm                 the matrix-product rates behind prefill and extraction
 */
public record BenchResult(String shape, int threads, double loadS, double prefillTokS, double extractTokS,
                          double decodeTokS128, double decodeTokS1024, double steerOverheadPct, double peakRssMb,
                          double bandwidthGbS, double decodeBandwidthPct, long weightBytesPerToken,
                          GemmRate gemm) {
}
