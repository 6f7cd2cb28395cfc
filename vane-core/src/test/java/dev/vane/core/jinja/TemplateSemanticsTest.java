package dev.vane.core.jinja;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One Jinja2 feature per template (fixtures/chat-templates/semantics.json): keyword arguments with arithmetic,
 * slicing, {@code not} precedence, Python printing of values, control characters kept as they are, loop
 * controls, {@code str} methods, undefined values, filters, tests, macros, scoping, whitespace control,
 * {@code strftime_now}. Expected results are what Python's Jinja2 rendered in transformers' environment
 * (golden.json, "semantics"); a case that fails in Jinja2 must fail here, a {@code raise_exception} with the
 * same message.
 */
class TemplateSemanticsTest {
    private static final Path DIR = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)")).resolve("chat-templates");

    @TestFactory
    List<DynamicTest> everyFeatureRendersAsJinja2() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(DIR.resolve("golden.json").toFile());
        Clock clock = Clock.fixed(LocalDateTime.parse(golden.get("now").asText()).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        List<Map<String, Object>> messages = new ArrayList<>();
        for (JsonNode m : golden.get("semantics").get("messages")) {
            Map<String, Object> message = new LinkedHashMap<>(); // a dict keeps its insertion order
            message.put("role", m.get("role").asText());
            message.put("content", m.get("content").asText());
            messages.add(message);
        }
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", messages);
        vars.put("tools", null);
        vars.put("documents", null);
        vars.put("add_generation_prompt", true);
        vars.put("bos_token", "<s>");
        List<DynamicTest> tests = new ArrayList<>();
        int n = 0;
        for (JsonNode c : golden.get("semantics").get("cases")) {
            String source = c.get("template").asText();
            tests.add(DynamicTest.dynamicTest("case " + n++ + ": " + source, () -> {
                if (c.has("text")) {
                    assertThat(Template.parse(source).render(vars, clock)).isEqualTo(c.get("text").asText());
                } else if (c.has("raised")) {
                    assertThatThrownBy(() -> Template.parse(source).render(vars, clock))
                            .isInstanceOfSatisfying(TemplateError.class, e -> {
                                assertThat(e.raisedByTemplate()).isTrue();
                                assertThat(e.getMessage()).isEqualTo(c.get("raised").asText());
                            });
                } else {
                    assertThatThrownBy(() -> Template.parse(source).render(vars, clock))
                            .isInstanceOfSatisfying(TemplateError.class, e -> assertThat(e.raisedByTemplate()).isFalse());
                }
            }));
        }
        return tests;
    }

    /**
     * 400 random compositions of text, tags, comments and raw blocks with every whitespace marker
     * (golden.json "whitespace", made with a fixed seed): the lexer's trim_blocks, lstrip_blocks and {@code -}/
     * {@code +} rules must give Jinja2's text to the character.
     */
    @TestFactory
    List<DynamicTest> whitespaceControlIsJinja2s() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(DIR.resolve("golden.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        int n = 0;
        for (JsonNode c : golden.get("whitespace")) {
            String source = c.get("template").asText();
            assertThat(c.has("text")).as("the generated cases all render in Jinja2").isTrue();
            tests.add(DynamicTest.dynamicTest("case " + n++ + ": " + source, () ->
                    assertThat(Template.parse(source).render(Map.of("x", "X"))).isEqualTo(c.get("text").asText())));
        }
        return tests;
    }
}
