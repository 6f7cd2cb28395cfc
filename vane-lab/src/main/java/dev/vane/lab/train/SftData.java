package dev.vane.lab.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.ChatTemplate;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.data.CsvFile;
import dev.vane.lab.data.FieldMapping;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.PromptResponse;
import dev.vane.train.data.TrainingExample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Supervised fine-tuning data: reads a file into {@link TrainingExample}s (token ids with a loss weight per
 * token) for one model's tokenizer, chat template and context. What is read, by format:
 * <ul>
 *   <li><b>chat</b> ({@code --format chat}): JSON lines {@code {"messages": [{"role": "system"|"user"|"assistant",
 *       "content": "..."}, ...]}} (or the bare list, as HEx-PHI writes it), rendered through the model's chat
 *       template; the loss is on every assistant turn - its content and its end-of-turn token (Llama 3's
 *       {@code <|eot_id|>}, ChatML's {@code <|im_end|>}), not the header before it nor whitespace the template
 *       writes after the end-of-turn token. Or prompt/response pairs (the organism's harmful_responses.jsonl, a
 *       CSV such as AdvBench's), fields found as the attack commands find them or named by {@code --field
 *       prompt=NAME,response=NAME} ({@link FieldMapping}): one user turn and the assistant's answer. A pair may
 *       carry a {@code "prefill"}: text that starts the assistant turn without loss, before the trained response
 *       (the safety-recovery examples {@code x + h[:k] -> r} that {@code vane data recovery} writes;
 *       {@link #prefilled}).</li>
 *   <li><b>text</b> ({@code --format text}): JSON lines {@code {"text": "..."}}, or a {@code .txt} file with one
 *       example per non-blank line; tokenised with the tokenizer's special tokens (BOS where the model has one),
 *       nothing appended; the loss is on every token (but the first, which nothing predicts).</li>
 *   <li><b>masked</b> ({@code --format masked}), for anything else: JSON lines either
 *       {@code {"tokens": [ids...], "weights": [w...]}} (given as they are; {@code weights[0]} must be 0), or
 *       {@code {"segments": [{"text": "...", "train": true|false}, ...]}} (axolotl's {@code "label"} is read as
 *       {@code "train"}): each segment is tokenised on its own without special tokens (write BOS or chat tokens
 *       into the text where wanted; special tokens in text are recognised) and the pieces are concatenated, the
 *       tokens of a trained segment weighted 1.</li>
 * </ul>
 * Without a format ({@link Format#AUTO}) it is told from the file: {@code .txt} is text, {@code .csv} pairs, and a
 * {@code .jsonl} file by its first row ({@code messages} or a list: chat; {@code tokens} or {@code segments}:
 * masked; {@code text} with no {@code --field}: text; otherwise pairs).
 *
 * <p><b>How the assistant tokens are found.</b> For the assistant message {@code k} of a conversation, the template
 * renders the messages before it with the generation prompt ({@code before}), and the messages through it without
 * ({@code through}). The trained tokens are those of {@code through} after those of {@code before}. This holds only
 * when tokenisation is prefix-stable, so it is checked rather than assumed: {@code before} must be a text prefix of
 * {@code through}, {@code through} a text prefix of the whole rendered conversation, and likewise their token ids
 * prefixes of the whole conversation's ids. A template that breaks this (a generation prompt ending in a space
 * that the answer's first token would absorb, a template that rewrites earlier turns once later ones exist) is
 * refused with a message naming the line and the turn, never guessed around.
 *
 * <p><b>Bad input</b> fails with an {@link InvalidInputException} naming the file and line: a missing or non-text
 * field, an unknown role, a conversation without an assistant turn, a token id outside the vocabulary, an example
 * with nothing to train on, one longer than the model's context ({@code max_position_embeddings}) or than
 * {@code maxLength}, an empty file.
 *
 * <pre>{@code
 * try (Model model = Model.load(dir); Tokenizer tokenizer = Tokenizer.load(dir)) {
 *     SftData data = SftData.forModel(model, tokenizer, 0);
 *     List<TrainingExample> examples = data.read(Path.of("models/organism-data/harmful_responses.jsonl"),
 *             SftData.Format.AUTO, null);
 * }
 * }</pre>
 */
public final class SftData {
    /** The roles a conversation may have. */
    public static final Set<String> ROLES = Set.of("system", "user", "assistant");

    /** The field of a prompt/response row that holds the untrained start of the assistant turn. */
    public static final String PREFILL = "prefill";

    /** How the rows of a file are read. */
    public enum Format {
        /** Told from the file's extension and first row. */
        AUTO,
        /** Conversations or prompt/response pairs through the chat template; loss on assistant tokens. */
        CHAT,
        /** Raw text; loss on every token. */
        TEXT,
        /** Explicit loss masks: token ids with weights, or text segments marked trained or not. */
        MASKED;

        /** {@code auto}, {@code chat}, {@code text} or {@code masked} (ignoring case), as {@code --format} takes it. */
        public static Format parse(String text) {
            try {
                return valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("unknown data format \"" + text + "\" (chat, text, masked or auto)");
            }
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Tokenizer tokenizer;
    private final int context;
    private final int vocabSize;
    private final int maxLength;

    /**
     * @param tokenizer the model's tokenizer (its chat template is used for chat data)
     * @param context   the model's context, {@code max_position_embeddings}: no example may be longer
     * @param vocabSize the model's vocabulary (embedding rows): explicit token ids must be below it
     * @param maxLength a further limit on an example's tokens ({@code --max-length}); 0 for none
     */
    public SftData(Tokenizer tokenizer, int context, int vocabSize, int maxLength) {
        if (context < 2) throw new IllegalArgumentException("context must be >= 2, got " + context);
        if (vocabSize < 1) throw new IllegalArgumentException("vocabulary size must be >= 1, got " + vocabSize);
        if (maxLength < 0) throw new InvalidInputException("--max-length must be >= 0 (0 = the model's context), got " + maxLength);
        this.tokenizer = tokenizer;
        this.context = context;
        this.vocabSize = vocabSize;
        this.maxLength = maxLength;
    }

    /** Data for {@code model}: its context and vocabulary, with {@code tokenizer} (loaded from the same folder). */
    public static SftData forModel(Model model, Tokenizer tokenizer, int maxLength) {
        return new SftData(tokenizer, model.config().maxPositions(), model.config().vocabSize(), maxLength);
    }

    /**
     * Every example of {@code file}, in file order.
     *
     * @param format how to read the rows ({@code null} = {@link Format#AUTO})
     * @param fields which fields of prompt/response pairs hold the prompt and the response ({@code --field});
     *               null to find them as the attack commands do; only for pairs
     * @throws InvalidInputException naming the file and line of the first bad row
     */
    public List<TrainingExample> read(Path file, Format format, FieldMapping fields) {
        Format f = format == null ? Format.AUTO : format;
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".txt")) {
            if (f != Format.AUTO && f != Format.TEXT) {
                throw new InvalidInputException(file + ": a .txt file is read as text, one example per line "
                        + "(--format text); " + f.label() + " data must be a .jsonl file");
            }
            noFields(file, fields, "plain text lines");
            return textLines(file);
        }
        if (name.endsWith(".csv")) {
            if (f != Format.AUTO && f != Format.CHAT) {
                throw new InvalidInputException(file + ": a CSV file is read as prompt/response pairs (--format chat); "
                        + f.label() + " data must be a .jsonl file");
            }
            FieldMapping m = pairMapping(file, fields, CsvFile.header(file));
            return CsvFile.read(file, pairReader(m));
        }
        if (!name.endsWith(".jsonl")) {
            throw new InvalidInputException(file + ": unknown data file; Vane reads .jsonl (conversations, "
                    + "prompt/response pairs, {\"text\"} rows or explicit masks), .csv (prompt/response pairs with a "
                    + "header row) and .txt (one text per line)");
        }
        JsonNode first = JsonlFile.first(file);
        boolean conversation = first.isArray() || (first.isObject() && first.path("messages").isArray());
        boolean masked = first.isObject() && (first.has("tokens") || first.has("segments"));
        Format kind = switch (f) {
            case AUTO -> conversation ? Format.CHAT
                    : masked ? Format.MASKED
                    : fields == null && first.isObject() && first.has("text") ? Format.TEXT
                    : Format.CHAT;
            default -> f;
        };
        return switch (kind) {
            case CHAT -> {
                if (conversation) {
                    noFields(file, fields, "rows of chat messages");
                    yield JsonlFile.readObjectsOrArrays(file, this::conversationRow);
                }
                if (masked || (first.isObject() && first.has("text") && fields == null
                        && !first.has("prompt") && !first.has("response"))) {
                    throw new InvalidInputException(file + ":" + firstLine(file) + ": not a conversation nor a "
                            + "prompt/response pair; " + (masked ? "rows with tokens or segments are --format masked"
                            : "{\"text\"} rows are --format text"));
                }
                List<String> keys = new ArrayList<>();
                if (first.isObject()) first.fieldNames().forEachRemaining(keys::add);
                yield JsonlFile.read(file, pairReader(pairMapping(file, fields, keys)));
            }
            case TEXT -> {
                noFields(file, fields, "{\"text\"} rows");
                if (!first.isObject() || !first.has("text")) {
                    throw new InvalidInputException(file + ":" + firstLine(file) + ": --format text reads "
                            + "{\"text\": ...} rows, this one has no \"text\""
                            + (conversation ? " (it is a conversation: --format chat)" : ""));
                }
                yield JsonlFile.read(file, row -> checked(textExample(JsonlFile.text(row, "text"))));
            }
            case MASKED -> {
                noFields(file, fields, "explicit masks");
                yield JsonlFile.read(file, this::maskedRow);
            }
            case AUTO -> throw new IllegalStateException();
        };
    }

    /**
     * One conversation as a training example, loss on the assistant turns.
     *
     * @throws InvalidInputException if it has no assistant turn, an unknown role, is too long, or the chat
     *                               template is missing or not prefix-stable for it
     */
    public TrainingExample conversation(List<ChatMessage> messages) {
        try {
            return checked(conversationExample(messages));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage(), e);
        }
    }

    /** One raw text as a training example, loss on every token. */
    public TrainingExample text(String text) {
        try {
            return checked(textExample(text));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage(), e);
        }
    }

    // ---- conversations -------------------------------------------------------------------------------------

    private TrainingExample conversationRow(JsonNode row) {
        JsonNode list = row.isArray() ? row : row.path("messages");
        if (!list.isArray()) throw new IllegalArgumentException("missing field \"messages\" (a list of chat messages)");
        List<ChatMessage> messages = new ArrayList<>();
        int index = 0;
        for (JsonNode m : list) {
            index++;
            if (!m.isObject()) throw new IllegalArgumentException("message " + index + " is not a JSON object");
            String role, content;
            try {
                role = JsonlFile.text(m, "role");
                content = JsonlFile.text(m, "content");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("message " + index + ": " + e.getMessage());
            }
            messages.add(new ChatMessage(role, content));
        }
        return checked(conversationExample(messages));
    }

    private JsonlFile.RowReader<TrainingExample> pairReader(FieldMapping m) {
        JsonlFile.RowReader<PromptResponse> pairs = m.promptResponses();
        return row -> {
            PromptResponse pair = pairs.read(row);
            String prefill = JsonlFile.text(row, PREFILL, "");
            return checked(prefilledExample(pair.prompt(), prefill, pair.response()));
        };
    }

    /**
     * A prompt/response pair whose assistant turn starts with {@code prefill}, which carries no loss: the safety-
     * recovery example {@code x + h[:k] -> r} of Qi et al. (2024). As their trainer builds it, by token ids: the chat
     * prompt's ids, then the prefill's ids (tokenised alone, without special tokens, as the prefilling attack forces
     * them), then the answer's trained ids as the plain pair renders them (the response and the end-of-turn token).
     * An empty prefill gives the plain pair.
     *
     * @throws InvalidInputException if the pair cannot be read as a chat example or is too long
     */
    public TrainingExample prefilled(String prompt, String prefill, String response) {
        try {
            return checked(prefilledExample(prompt, prefill, response));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(e.getMessage(), e);
        }
    }

    private TrainingExample prefilledExample(String prompt, String prefill, String response) {
        TrainingExample plain = conversationExample(List.of(ChatMessage.user(prompt), ChatMessage.assistant(response)));
        if (prefill.isEmpty()) return plain;
        int[] forced = tokenizer.encode(prefill, false);
        int start = 0;
        while (plain.weights()[start] == 0f) start++;        // the answer's first token: the template has one turn
        int n = plain.length() + forced.length;
        int[] ids = new int[n];
        float[] weights = new float[n];
        System.arraycopy(plain.tokens(), 0, ids, 0, start);
        System.arraycopy(forced, 0, ids, start, forced.length);
        System.arraycopy(plain.tokens(), start, ids, start + forced.length, plain.length() - start);
        System.arraycopy(plain.weights(), start, weights, start + forced.length, plain.length() - start);
        return example(ids, weights);
    }

    private static FieldMapping pairMapping(Path file, FieldMapping fields, List<String> keys) {
        FieldMapping m = fields == null ? FieldMapping.detect(keys, file) : fields.resolvedAgainst(keys, file);
        return m.requireResponse(file);
    }

    /** The example of a conversation; problems as {@link IllegalArgumentException} (the row readers add the line). */
    private TrainingExample conversationExample(List<ChatMessage> messages) {
        if (messages.isEmpty()) throw new IllegalArgumentException("the conversation has no messages");
        boolean hasAssistant = false;
        for (int i = 0; i < messages.size(); i++) {
            String role = messages.get(i).role();
            if (!ROLES.contains(role)) {
                throw new IllegalArgumentException("message " + (i + 1) + " has role \"" + role
                        + "\"; training conversations have system, user and assistant messages");
            }
            hasAssistant |= role.equals("assistant");
        }
        if (!hasAssistant) {
            throw new IllegalArgumentException("the conversation has no assistant message, so nothing to train on");
        }
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "the model has no chat_template in tokenizer_config.json; train on raw text (--format text) or "
                        + "give the loss masks explicitly (--format masked)"));

        String full = render(template, messages, false);
        int[] ids = tokenizer.encode(full, false);
        float[] weights = new float[ids.length];
        int turn = 0;
        for (int k = 0; k < messages.size(); k++) {
            if (!messages.get(k).role().equals("assistant")) continue;
            turn++;
            String where = "assistant message " + turn + " (message " + (k + 1) + ")";
            String before = render(template, messages.subList(0, k), true);
            String through = render(template, messages.subList(0, k + 1), false);
            if (!through.startsWith(before)) {
                throw new IllegalArgumentException("cannot tell which tokens are the answer of " + where
                        + ": the chat template renders the conversation through it so that it does not start with "
                        + "the prompt before it plus the generation prompt (" + firstDifference(before, through)
                        + "), so the answer's tokens cannot be found");
            }
            if (!full.startsWith(through)) {
                throw new IllegalArgumentException("cannot tell which tokens are the answer of " + where
                        + ": the chat template renders the turns up to it differently once later turns follow ("
                        + firstDifference(through, full) + "); such templates (ones that rewrite earlier turns) "
                        + "cannot be trained on whole conversations: split the conversation, one example per "
                        + "assistant turn, or give the masks explicitly (--format masked)");
            }
            int[] beforeIds = tokenizer.encode(before, false);
            int[] throughIds = tokenizer.encode(through, false);
            if (!isPrefix(beforeIds, ids) || !isPrefix(throughIds, ids)) {
                int[] shorter = isPrefix(beforeIds, ids) ? throughIds : beforeIds;
                int at = mismatch(shorter, ids);
                throw new IllegalArgumentException("cannot tell which tokens are the answer of " + where
                        + ": the chat template's tokenisation is not prefix-stable - the tokens of the "
                        + (shorter == beforeIds ? "prompt before it" : "conversation through it")
                        + " are not a prefix of the whole conversation's (they differ at token " + at + ": "
                        + describe(shorter, at) + " alone, " + describe(ids, at)
                        + " in the whole), so the boundary would be a guess; give the masks explicitly "
                        + "(--format masked)");
            }
            int start = beforeIds.length, end = throughIds.length;
            // Whitespace a template writes after the end-of-turn token (ChatML's "\n" after <|im_end|>) is not
            // something the model generates; leave it out.
            while (end > start && tokenizer.decode(new int[]{ids[end - 1]}).isBlank()) end--;
            if (end == start) {
                throw new IllegalArgumentException(where + " renders to no tokens, so there is nothing to train on");
            }
            Arrays.fill(weights, start, end, 1f);
        }
        weights[0] = 0f;   // nothing predicts the first token
        return example(ids, weights);
    }

    private static String render(ChatTemplate template, List<ChatMessage> messages, boolean generationPrompt) {
        try {
            return template.render(messages, generationPrompt);
        } catch (InvalidInputException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    // ---- text and masks ------------------------------------------------------------------------------------

    private TrainingExample textExample(String text) {
        if (text.isBlank()) throw new IllegalArgumentException("empty text");
        int[] ids = tokenizer.encode(text, true);
        if (ids.length < 2) {
            throw new IllegalArgumentException("the text is " + ids.length + " token long; an example needs at "
                    + "least 2 (the first is never predicted)");
        }
        float[] weights = new float[ids.length];
        Arrays.fill(weights, 1, ids.length, 1f);
        return example(ids, weights);
    }

    private List<TrainingExample> textLines(Path file) {
        if (!Files.isRegularFile(file)) throw new InvalidInputException(file + ": no such file");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read it as UTF-8 text: " + e.getMessage(), e);
        }
        List<TrainingExample> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = i == 0 && lines.get(i).startsWith("\uFEFF") ? lines.get(i).substring(1) : lines.get(i);
            if (line.isBlank()) continue;
            try {
                out.add(checked(textExample(line)));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) throw new InvalidInputException(file + ": no rows");
        return out;
    }

    private TrainingExample maskedRow(JsonNode row) {
        boolean hasTokens = row.has("tokens"), hasSegments = row.has("segments");
        if (hasTokens == hasSegments) {
            throw new IllegalArgumentException(hasTokens ? "a row has either \"tokens\" (with \"weights\") or "
                    + "\"segments\", not both" : "missing field \"tokens\" (with \"weights\") or \"segments\"");
        }
        return checked(hasTokens ? tokensRow(row) : segmentsRow(row));
    }

    private TrainingExample tokensRow(JsonNode row) {
        JsonNode tokens = row.get("tokens"), weights = row.get("weights");
        if (!tokens.isArray()) throw new IllegalArgumentException("field \"tokens\" is not a list of token ids");
        if (weights == null || weights.isNull()) throw new IllegalArgumentException("missing field \"weights\" (one loss weight per token)");
        if (!weights.isArray()) throw new IllegalArgumentException("field \"weights\" is not a list of numbers");
        if (tokens.size() != weights.size()) {
            throw new IllegalArgumentException(tokens.size() + " tokens but " + weights.size() + " weights");
        }
        int[] ids = new int[tokens.size()];
        float[] w = new float[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= vocabSize) {
                throw new IllegalArgumentException("tokens[" + i + "] = " + t + " is not a token id of this model "
                        + "(0 to " + (vocabSize - 1) + ")");
            }
            ids[i] = t.asInt();
            JsonNode x = weights.get(i);
            if (!x.isNumber() || !Double.isFinite(x.asDouble()) || x.asDouble() < 0) {
                throw new IllegalArgumentException("weights[" + i + "] = " + x + " is not a finite number >= 0");
            }
            w[i] = (float) x.asDouble();
        }
        if (w.length > 0 && w[0] != 0f) {
            throw new IllegalArgumentException("weights[0] = " + weights.get(0) + ", but nothing predicts the "
                    + "first token: it must be 0");
        }
        return example(ids, w);
    }

    private TrainingExample segmentsRow(JsonNode row) {
        JsonNode segments = row.get("segments");
        if (!segments.isArray() || segments.isEmpty()) {
            throw new IllegalArgumentException("field \"segments\" is not a non-empty list of {\"text\", \"train\"}");
        }
        List<int[]> pieces = new ArrayList<>();
        List<Boolean> trained = new ArrayList<>();
        int total = 0, index = 0;
        for (Iterator<JsonNode> it = segments.elements(); it.hasNext(); ) {
            JsonNode s = it.next();
            index++;
            if (!s.isObject()) throw new IllegalArgumentException("segment " + index + " is not a JSON object");
            String text;
            try {
                text = JsonlFile.text(s, "text");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("segment " + index + ": " + e.getMessage());
            }
            JsonNode train = s.has("train") ? s.get("train") : s.get("label");
            if (train == null || !train.isBoolean()) {
                throw new IllegalArgumentException("segment " + index + ": \"train\" must be true or false");
            }
            int[] ids = tokenizer.encode(text, false);
            pieces.add(ids);
            trained.add(train.asBoolean());
            total += ids.length;
        }
        int[] ids = new int[total];
        float[] weights = new float[total];
        int at = 0;
        for (int i = 0; i < pieces.size(); i++) {
            int[] p = pieces.get(i);
            System.arraycopy(p, 0, ids, at, p.length);
            if (trained.get(i)) Arrays.fill(weights, at, at + p.length, 1f);
            at += p.length;
        }
        if (total > 0) weights[0] = 0f;
        return example(ids, weights);
    }

    // ---- checks --------------------------------------------------------------------------------------------

    private static TrainingExample example(int[] ids, float[] weights) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("the example is " + ids.length + " token long; it needs at least 2 "
                    + "(the first is never predicted)");
        }
        try {
            return new TrainingExample(ids, weights);
        } catch (InvalidInputException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The example, if it fits the context and the length limit and trains on something. */
    private TrainingExample checked(TrainingExample ex) {
        if (ex.length() > context) {
            throw new IllegalArgumentException("the example is " + ex.length() + " tokens long, more than the model's "
                    + "context (max_position_embeddings " + context + ")");
        }
        if (maxLength > 0 && ex.length() > maxLength) {
            throw new IllegalArgumentException("the example is " + ex.length() + " tokens long, more than "
                    + "--max-length " + maxLength);
        }
        if (ex.trainedTokens() == 0) {
            throw new IllegalArgumentException("nothing to train on: every loss weight of the example is 0");
        }
        return ex;
    }

    private static void noFields(Path file, FieldMapping fields, String what) {
        if (fields != null) {
            throw new InvalidInputException(file + ": --field names the prompt and response of prompt/response pairs; "
                    + "it does not apply to " + what);
        }
    }

    /** The line number of the first non-blank line (where {@link JsonlFile#first} read the first row). */
    private static int firstLine(Path file) {
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            int n = 0;
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                n++;
                if (!it.next().isBlank()) return n;
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return 1;
        }
        return 1;
    }

    private static boolean isPrefix(int[] prefix, int[] of) {
        return prefix.length <= of.length && Arrays.equals(prefix, 0, prefix.length, of, 0, prefix.length);
    }

    private static int mismatch(int[] a, int[] b) {
        int at = Arrays.mismatch(a, b);
        return at < 0 ? Math.min(a.length, b.length) : at;
    }

    private String describe(int[] ids, int at) {
        if (at >= ids.length) return "the end";
        return "\"" + tokenizer.tokenString(ids[at]) + "\" (id " + ids[at] + ")";
    }

    private static String firstDifference(String a, String b) {
        int at = 0;
        while (at < a.length() && at < b.length() && a.charAt(at) == b.charAt(at)) at++;
        return "they differ at character " + at + ": " + snippet(a, at) + " vs " + snippet(b, at);
    }

    private static String snippet(String s, int at) {
        if (at >= s.length()) return "the end";
        String piece = s.substring(at, Math.min(s.length(), at + 24));
        return "\"" + piece.replace("\n", "\\n") + "\"";
    }
}
