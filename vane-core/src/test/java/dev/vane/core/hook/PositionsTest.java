package dev.vane.core.hook;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class PositionsTest {

    /** The token indices of a row of {@code length} tokens that {@code p} selects. */
    private static int[] selected(Positions p, int row, int length) {
        return IntStream.range(0, length).filter(i -> p.contains(row, i, length)).toArray();
    }

    private static int[] selected(Positions p, int length) {
        return selected(p, 0, length);
    }

    @Test
    void all() {
        assertThat(selected(Positions.all(), 1)).containsExactly(0);
        assertThat(selected(Positions.all(), 5)).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void lastOfCall() {
        assertThat(selected(Positions.lastOfCall(), 1)).containsExactly(0);
        assertThat(selected(Positions.lastOfCall(), 5)).containsExactly(4);
        assertThat(selected(Positions.lastOfCall(), 6)).containsExactly(5);
    }

    @Test
    void fromIndex() {
        assertThat(selected(Positions.from(3), 6)).containsExactly(3, 4, 5);
        assertThat(selected(Positions.from(3), 4)).containsExactly(3);
        assertThat(selected(Positions.from(3), 3)).isEmpty();
        assertThat(selected(Positions.from(0), 3)).containsExactly(0, 1, 2);
    }

    @Test
    void fromNegativeCountsFromTheEnd() {
        assertThat(selected(Positions.from(-2), 6)).containsExactly(4, 5);
        assertThat(selected(Positions.from(-2), 2)).containsExactly(0, 1);
        assertThat(selected(Positions.from(-2), 1)).containsExactly(0);
    }

    @Test
    void atExplicitAndNegative() {
        assertThat(selected(Positions.at(1, -1), 6)).containsExactly(1, 5);
        assertThat(selected(Positions.at(1, -1), 2)).containsExactly(1);   // both name token 1
        assertThat(selected(Positions.at(1, -1), 1)).containsExactly(0);   // -1 is token 0, 1 does not exist
        assertThat(selected(Positions.at(-1, 1), 6)).containsExactly(1, 5);
        assertThat(selected(Positions.at(7), 6)).isEmpty();
        assertThat(selected(Positions.at(-7), 6)).isEmpty();
        assertThat(selected(Positions.at(), 6)).isEmpty();
    }

    @Test
    void atCopiesItsArgument() {
        int[] indices = {2};
        Positions p = Positions.at(indices);
        indices[0] = 4;
        assertThat(selected(p, 6)).containsExactly(2);
    }

    @Test
    void lastN() {
        assertThat(selected(Positions.lastN(2), 6)).containsExactly(4, 5);
        assertThat(selected(Positions.lastN(2), 2)).containsExactly(0, 1);
        assertThat(selected(Positions.lastN(2), 1)).containsExactly(0);
        assertThat(selected(Positions.lastN(0), 4)).isEmpty();
    }

    @Test
    void fromPerRow() {
        int[] starts = {1, 3};
        Positions p = Positions.fromPerRow(starts);
        starts[0] = 0;   // copied
        assertThat(selected(p, 0, 4)).containsExactly(1, 2, 3);
        assertThat(selected(p, 1, 4)).containsExactly(3);
        assertThat(selected(p, 1, 3)).isEmpty();
        assertThat(selected(p, 1, 5)).containsExactly(3, 4);
    }
}
