package dev.vane.core.jinja;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** transformers' tojson (JsonDumps) against Python's json.dumps (expected values printed by CPython 3). */
class JsonDumpsTest {
    @ParameterizedTest
    @CsvSource({
            "1.0, 1.0", "0.1, 0.1", "1e-05, 0.00001", "0.0001, 0.0001", "1e+16, 1e16", "1.5e+16, 1.5e16",
            "1234567890123456.0, 1234567890123456.0", "1.2345678901234568e+17, 123456789012345678.0",
            "-2.5, -2.5", "0.3333333333333333, 0.3333333333333333", "9.313225746154785e-10, 9.313225746154785e-10",
            "1e+300, 1e300", "-0.0, -0.0", "100.0, 100.0", "1e+22, 1e22"})
    void floatsAsPythonRepr(String python, double value) {
        assertThat(JsonDumps.pythonFloat(value)).isEqualTo(python);
    }

    @Test
    void stringsObjectsAndOptions() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("k", "a\u0001\u007f\u2028\uD83D\uDE00");
        assertThat(JsonDumps.dumps(map, true, null, null, null, false))
                .isEqualTo("{\"k\": \"a\\u0001\\u007f\\u2028\\ud83d\\ude00\"}");
        assertThat(JsonDumps.dumps(map, false, null, null, null, false))
                .isEqualTo("{\"k\": \"a\\u0001\u007f\u2028\uD83D\uDE00\"}");

        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("a", null);
        List<Object> value = Arrays.asList(1L, Arrays.asList(2L, Map.of()), inner);
        assertThat(JsonDumps.dumps(value, false, "  ", null, null, false))
                .isEqualTo("[\n  1,\n  [\n    2,\n    {}\n  ],\n  {\n    \"a\": null\n  }\n]");

        Map<String, Object> sorted = new LinkedHashMap<>();
        sorted.put("b", List.of(1L, 2L));
        sorted.put("a", 1L);
        assertThat(JsonDumps.dumps(sorted, false, null, ",", ":", true)).isEqualTo("{\"a\":1,\"b\":[1,2]}");
    }
}
