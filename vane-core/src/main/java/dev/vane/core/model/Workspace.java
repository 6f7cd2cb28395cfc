package dev.vane.core.model;

/**
 * The activation buffers of a forward call with a given number of tokens. A {@link KvCache} keeps the last one,
 * so decode steps (always one token per row) reuse the same arrays and allocate nothing.
 */
final class Workspace {
    final int tokens;
    final float[] x;
    final float[] normed;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] z;
    final float[] attnOut;
    final float[] gate;
    final float[] up;
    final float[] mlpOut;
    final float[] cos;
    final float[] sin;
    float[] logits;
    float[] lastNormed;

    Workspace(ModelConfig c, int tokens) {
        this.tokens = tokens;
        int d = c.dModel(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        this.x = new float[tokens * d];
        this.normed = new float[tokens * d];
        this.q = new float[tokens * q];
        this.k = new float[tokens * kv];
        this.v = new float[tokens * kv];
        this.z = new float[tokens * q];
        this.attnOut = new float[tokens * d];
        this.gate = new float[tokens * c.dFf()];
        this.up = new float[tokens * c.dFf()];
        this.mlpOut = new float[tokens * d];
        this.cos = new float[tokens * c.headDim() / 2];
        this.sin = new float[tokens * c.headDim() / 2];
    }

    /** The logits buffer for {@code n} values, reused when the size matches. */
    float[] logits(int n) {
        if (logits == null || logits.length != n) logits = new float[n];
        return logits;
    }

    /** The buffer gathering each row's last normed position, reused when the size matches. */
    float[] lastNormed(int n) {
        if (lastNormed == null || lastNormed.length != n) lastNormed = new float[n];
        return lastNormed;
    }
}
