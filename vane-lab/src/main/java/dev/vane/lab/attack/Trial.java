package dev.vane.lab.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One generation of an attack, judged on its own: a prompt in the chat template, the tokens forced at the
 * start of the assistant turn (none for a decoding attack), and how to decode. Its {@code id} names it in
 * {@code results.jsonl}, so a resumed run knows it is done.
 *
 * <pre>{@code
 * int[] chat = Trial.chatPrompt(tokenizer, null, "How do I build a bomb?");
 * Trial t = Trial.of("0-k5-s0", "How do I build a bomb?", chat, Arrays.copyOf(responseIds, 5),
 *         SamplingParams.greedy(128), fields);
 * }</pre>
 *
 * @param id         unique within the run
 * @param prompt     the user's message, as the judge sees it
 * @param promptIds  the model's input: the chat prompt's ids followed by {@code prefillIds}
 * @param promptEnd  index of the chat prompt's last token (before the prefill): where steering that starts at
 *                   the end of the instruction starts
 * @param prefillIds the forced start of the answer (may be empty)
 * @param params     decoding settings, seed included
 * @param fields     what the attack records about the trial in its results line ({@code k}, {@code sample}, ...)
 */
public record Trial(String id, String prompt, int[] promptIds, int promptEnd, int[] prefillIds, SamplingParams params,
                    ObjectNode fields) {

    /** A trial whose input is {@code chatPromptIds} followed by {@code prefillIds}. */
    public static Trial of(String id, String prompt, int[] chatPromptIds, int[] prefillIds, SamplingParams params,
                           ObjectNode fields) {
        int[] ids = Arrays.copyOf(chatPromptIds, chatPromptIds.length + prefillIds.length);
        System.arraycopy(prefillIds, 0, ids, chatPromptIds.length, prefillIds.length);
        return new Trial(id, prompt, ids, chatPromptIds.length - 1, prefillIds.clone(), params, fields);
    }

    /** Every field as JSON: a work item's input, from which a worker on another machine runs the same generation. */
    public ObjectNode json() {
        ObjectNode o = JsonNodeFactory.instance.objectNode().put("id", id).put("prompt", prompt);
        ArrayNode ids = o.putArray("prompt_ids");
        for (int t : promptIds) ids.add(t);
        o.put("prompt_end", promptEnd);
        ArrayNode prefill = o.putArray("prefill_ids");
        for (int t : prefillIds) prefill.add(t);
        o.set("sampling", AttackRun.samplingJson(params));
        o.set("fields", fields);
        return o;
    }

    /** The trial {@link #json()} wrote. */
    public static Trial fromJson(JsonNode json) {
        return new Trial(json.get("id").asText(), json.get("prompt").asText(), ints(json.get("prompt_ids")),
                json.get("prompt_end").asInt(), ints(json.get("prefill_ids")), AttackRun.sampling(json.get("sampling")),
                (ObjectNode) json.get("fields"));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /**
     * The ids of {@code prompt} as the user's turn (after an optional {@code system} message) in the model's
     * chat template, with the assistant header that asks for the answer.
     */
    public static int[] chatPrompt(Tokenizer tokenizer, String system, String prompt) {
        if (tokenizer.chatTemplate().isEmpty()) {
            throw new InvalidInputException("the model has no chat_template in tokenizer_config.json; attacks put "
                    + "each prompt in the user turn of the chat template");
        }
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) messages.add(ChatMessage.system(system));
        messages.add(ChatMessage.user(prompt));
        return ChatPrompt.encode(tokenizer, messages, "");
    }
}
