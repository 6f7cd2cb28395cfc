/**
 * Reading and writing safetensors files: memory-mapped, validated before use, with sharded Hugging Face
 * checkpoints served as one {@link dev.vane.core.safetensors.TensorSource}.
 *
 * <pre>{@code
 * try (TensorSource weights = TensorSource.open(modelDir)) {
 *     float[] norm = weights.readFloats("model.norm.weight");
 * }
 * }</pre>
 */
package dev.vane.core.safetensors;
