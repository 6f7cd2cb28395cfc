package dev.vane.core.safetensors;

import dev.vane.core.InvalidInputException;
import dev.vane.core.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TensorInfoTest {

    @Test
    void describesShape() {
        TensorInfo info = new TensorInfo("w", DType.BF16, new long[]{64, 172}, 100, 64 * 172 * 2);

        assertThat(info.elementCount()).isEqualTo(64 * 172);
        assertThat(info.intShape()).containsExactly(64, 172);
        assertThat(info.shapeString()).isEqualTo("[64, 172]");
        assertThat(info.toString()).contains("w", "BF16", "[64, 172]");
    }

    @Test
    void scalarHasOneElement() {
        TensorInfo scalar = new TensorInfo("s", DType.F32, new long[0], 8, 4);

        assertThat(scalar.elementCount()).isEqualTo(1);
        assertThat(scalar.shapeString()).isEqualTo("[]");
    }

    @Test
    void comparesShapesByContent() {
        TensorInfo a = new TensorInfo("w", DType.F16, new long[]{2, 3}, 8, 12);
        TensorInfo b = new TensorInfo("w", DType.F16, new long[]{2, 3}, 8, 12);
        TensorInfo other = new TensorInfo("w", DType.F16, new long[]{3, 2}, 8, 12);

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(other);
    }

    @Test
    void shapeCannotBeChangedFromOutside() {
        long[] shape = {2, 3};
        TensorInfo info = new TensorInfo("w", DType.F16, shape, 8, 12);
        shape[0] = 99;
        info.shape()[1] = 99;

        assertThat(info.shape()).containsExactly(2, 3);
    }

    @Test
    void intShapeRejectsDimensionsBeyondIntRange() {
        TensorInfo huge = new TensorInfo("big", DType.U8, new long[]{1L << 31}, 8, 1L << 31);

        assertThatThrownBy(huge::intShape)
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("big")
                .hasMessageContaining("2147483648");
    }
}
