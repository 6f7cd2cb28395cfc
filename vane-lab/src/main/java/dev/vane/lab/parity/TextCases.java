package dev.vane.lab.parity;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.ChatTemplate;
import dev.vane.core.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The exact-match parity cases: tokenization (ids with and without special tokens, decoded text, token strings)
 * and chat templates (rendered text, its ids, or the error the template raised). A case's "difference" is the
 * number of mismatching entries; the tolerance is zero.
 */
final class TextCases {
    private TextCases() {
    }

    static CaseResult tokenization(Tokenizer tokenizer, JsonNode entries) {
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            JsonNode e = entries.get(i);
            String text = e.path("text").asText();
            compare(mismatches, i, "ids", ids(e.get("ids")), tokenizer.encode(text));
            compare(mismatches, i, "ids_with_special", ids(e.get("ids_with_special")), tokenizer.encode(text, true));
            if (e.has("decoded")) {
                String decoded = tokenizer.decode(ids(e.get("ids")));
                if (!decoded.equals(e.get("decoded").asText())) mismatches.add("#" + i + " decoded " + quote(decoded));
            }
            if (e.has("tokens")) {
                List<String> want = new ArrayList<>();
                e.get("tokens").forEach(t -> want.add(t.asText()));
                List<String> got = Arrays.asList(tokenizer.tokens(text));
                if (!got.equals(want)) mismatches.add("#" + i + " tokens " + got);
            }
        }
        return result("tokenization", entries.size() + " texts", mismatches);
    }

    static CaseResult chatTemplates(Tokenizer tokenizer, JsonNode entries) {
        if (tokenizer.chatTemplate().isEmpty()) {
            return CaseResult.skipped("chat_templates", "the tokenizer_config.json has no chat_template");
        }
        ChatTemplate template = tokenizer.chatTemplate().get();
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            JsonNode e = entries.get(i);
            List<ChatMessage> messages = new ArrayList<>();
            e.path("messages").forEach(m -> messages.add(new ChatMessage(m.path("role").asText(), m.path("content").asText())));
            boolean generationPrompt = e.path("add_generation_prompt").asBoolean(false);
            if (e.has("error")) {
                String want = e.get("error").asText();
                try {
                    template.render(messages, generationPrompt);
                    mismatches.add("#" + i + " rendered, but the reference raised " + quote(want));
                } catch (InvalidInputException ex) {
                    if (!ex.getMessage().contains(want)) mismatches.add("#" + i + " raised " + quote(ex.getMessage()));
                }
                continue;
            }
            String text = template.render(messages, generationPrompt);
            if (!text.equals(e.path("text").asText())) {
                mismatches.add("#" + i + " rendered " + quote(text));
                continue;
            }
            if (e.has("ids")) compare(mismatches, i, "ids", ids(e.get("ids")), tokenizer.encode(text, false));
        }
        return result("chat_templates", entries.size() + " conversations", mismatches);
    }

    private static CaseResult result(String name, String what, List<String> mismatches) {
        if (mismatches.isEmpty()) {
            return new CaseResult(name, 0, 0, CaseResult.Status.PASS, what + ", all exact");
        }
        return new CaseResult(name, mismatches.size(), 0, CaseResult.Status.FAIL,
                mismatches.size() + " mismatches of " + what + "; first: " + mismatches.getFirst());
    }

    private static void compare(List<String> mismatches, int i, String what, int[] want, int[] got) {
        if (want != null && !Arrays.equals(want, got)) mismatches.add("#" + i + " " + what + " " + Arrays.toString(got));
    }

    private static int[] ids(JsonNode node) {
        if (node == null || !node.isArray()) return null;
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) out[i] = node.get(i).asInt();
        return out;
    }

    private static String quote(String s) {
        String shown = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return "\"" + shown.replace("\n", "\\n") + "\"";
    }
}
