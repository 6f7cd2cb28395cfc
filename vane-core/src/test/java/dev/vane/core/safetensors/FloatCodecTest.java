package dev.vane.core.safetensors;

import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

class FloatCodecTest {

    private static short bf16(float value) {
        return FloatCodec.floatToBf16(value);
    }

    @Test
    void bf16KeepsExactlyRepresentableValues() {
        assertThat(bf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(bf16(-2.5f)).isEqualTo((short) 0xC020);
        assertThat(FloatCodec.bf16ToFloat(bf16(-2.5f))).isEqualTo(-2.5f);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertThat(FloatCodec.bf16ToFloat(bf16(3.14159f))).isEqualTo(3.140625f);
        // Exactly halfway: ties go to the even mantissa, down for 0x3F80 and up for 0x3F81.
        assertThat(bf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80);
        assertThat(bf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82);
        // Just above halfway rounds up.
        assertThat(bf16(Float.intBitsToFloat(0x3F808001))).isEqualTo((short) 0x3F81);
        assertThat(FloatCodec.bf16ToFloat(bf16(Float.MAX_VALUE))).isEqualTo(Float.POSITIVE_INFINITY);
    }

    @Test
    void bf16PreservesNaNAndInfinity() {
        // This NaN has payload only in the low bits that bf16 drops.
        assertThat(FloatCodec.bf16ToFloat(bf16(Float.intBitsToFloat(0x7F800001)))).isNaN();
        assertThat(FloatCodec.bf16ToFloat(bf16(Float.NaN))).isNaN();
        assertThat(FloatCodec.bf16ToFloat(bf16(Float.NEGATIVE_INFINITY))).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void encodeDecodeRoundTripsEachDtype() {
        float[] values = {1.0f, -2.5f, 0.5f, 65504f};
        for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.F16}) {
            MemorySegment bytes = MemorySegment.ofArray(new byte[values.length * dtype.byteSize()]);
            FloatCodec.encode(values, dtype, bytes);
            float[] back = FloatCodec.decode(bytes, dtype, values.length);
            if (dtype == DType.BF16) {
                assertThat(back).containsExactly(1.0f, -2.5f, 0.5f, 65536f); // 65504 is not a bf16 value
            } else {
                assertThat(back).as(dtype.name()).containsExactly(values);
            }
        }
    }

    @Test
    void encodesLittleEndian() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[2]);
        FloatCodec.encode(new float[]{1.0f}, DType.F16, bytes); // f16 1.0 is 0x3C00

        assertThat(bytes.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsExactly(0x00, 0x3C);
    }
}
