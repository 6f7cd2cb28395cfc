package dev.vane.core.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The chat templates of current models (fixtures/chat-templates: Llama 2/3/3.2, Mistral and Mistral Nemo, Qwen2,
 * Qwen2.5, Qwen3, Gemma 1-2 and 3, DeepSeek-V3 and R1-distill, Phi-3, Phi-4, SmolLM2) rendered for every
 * conversation of conversations.json - generation prompt on and off, and prefills continued as transformers'
 * {@code continue_final_message} does - against what Python's Jinja2 rendered in transformers' environment
 * (golden.json, made by make_golden.py). Every case must be equal; a template that raises must raise the same
 * message, and one that fails in Jinja2 must fail here too.
 */
class ChatTemplateGoldenTest {
    static final Path DIR = Path.of(Objects.requireNonNull(System.getProperty("vane.fixtures"),
            "system property vane.fixtures is not set (Maven sets it to <repo>/fixtures)")).resolve("chat-templates");

    private static final Map<String, AtomicInteger[]> TALLY = new ConcurrentHashMap<>();

    @TestFactory
    List<DynamicContainer> everyTemplateRendersEveryConversationAsJinja2() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode golden = json.readTree(DIR.resolve("golden.json").toFile());
        LocalDateTime now = LocalDateTime.parse(golden.get("now").asText());
        Map<String, JsonNode> conversations = new LinkedHashMap<>();
        for (JsonNode c : json.readTree(DIR.resolve("conversations.json").toFile())) conversations.put(c.get("name").asText(), c);
        List<DynamicContainer> templates = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = golden.get("templates").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> t = it.next();
            String name = t.getKey();
            ChatTemplate template = template(name, now);
            List<DynamicTest> cases = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> cs = t.getValue().fields(); cs.hasNext(); ) {
                Map.Entry<String, JsonNode> c = cs.next();
                String[] key = c.getKey().split("/");
                JsonNode conversation = conversations.get(key[0]);
                cases.add(DynamicTest.dynamicTest(c.getKey(), () -> check(name, template, conversation, key[1], c.getValue())));
            }
            templates.add(DynamicContainer.dynamicContainer(name, cases));
        }
        return templates;
    }

    static ChatTemplate template(String name, LocalDateTime now) throws IOException {
        Path dir = DIR.resolve(name);
        JsonNode config = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        Map<String, String> tokens = new TreeMap<>();
        for (String token : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            if (config.hasNonNull(token)) tokens.put(token, config.get(token).asText());
        }
        return ChatTemplate.of(Files.readString(dir.resolve("chat_template.jinja")), tokens).at(now);
    }

    private static void check(String name, ChatTemplate template, JsonNode conversation, String mode, JsonNode expected) {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : conversation.get("messages")) messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        if (mode.equals("prefill")) messages.add(ChatMessage.assistant(conversation.get("prefill").asText()));
        AtomicInteger[] tally = TALLY.computeIfAbsent(name, k -> new AtomicInteger[]{new AtomicInteger(), new AtomicInteger()});
        tally[1].incrementAndGet();
        Supplier<String> render = () -> switch (mode) {
            case "prefill" -> template.renderContinuing(messages);
            case "generation_prompt" -> template.render(messages, true);
            default -> template.render(messages, false);
        };
        if (expected.has("text")) {
            assertThat(render.get()).isEqualTo(expected.get("text").asText());
        } else if (expected.has("raised")) {
            assertThatThrownBy(render::get).isInstanceOf(InvalidInputException.class)
                    .hasMessage("chat template raised: " + expected.get("raised").asText());
        } else { // Jinja2 failed (an undefined value, a type error): Vane must fail too, naming the problem
            assertThatThrownBy(render::get).isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("chat template: cannot render: line ");
        }
        tally[0].incrementAndGet();
    }

    /** The sandbox's limits leave room for long real conversations: ten thousand messages with every template. */
    @TestFactory
    List<DynamicTest> longConversationsStayWithinTheLimits() throws IOException {
        List<ChatMessage> chat = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            chat.add(ChatMessage.user("Question " + i + ": how long can a conversation get before the limits bite?"));
            chat.add(ChatMessage.assistant("Answer " + i + ": longer than any context window a model has today."));
        }
        chat.add(ChatMessage.user("Last question"));
        List<DynamicTest> tests = new ArrayList<>();
        try (var dirs = Files.list(DIR)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("chat_template.jinja"))).sorted().toList()) {
                String name = dir.getFileName().toString();
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    String text = template(name, LocalDateTime.parse("2025-03-14T09:26:53")).render(chat, true);
                    assertThat(text).contains("Question 4999").contains("Answer 4999").contains("Last question");
                }));
            }
        }
        return tests;
    }

    @AfterAll
    static void printTally() {
        StringBuilder table = new StringBuilder("chat templates equal to Jinja2 (cases):\n");
        int equal = 0;
        int total = 0;
        for (Map.Entry<String, AtomicInteger[]> e : new TreeMap<>(TALLY).entrySet()) {
            table.append(String.format("  %-26s %3d / %3d%n", e.getKey(), e.getValue()[0].get(), e.getValue()[1].get()));
            equal += e.getValue()[0].get();
            total += e.getValue()[1].get();
        }
        table.append(String.format("  %-26s %3d / %3d%n", "all", equal, total));
        System.out.print(table);
    }
}
