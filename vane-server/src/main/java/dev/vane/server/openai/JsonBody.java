package dev.vane.server.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * A request body read strictly as one JSON object: {@code Content-Type: application/json} (UTF-8, the only
 * charset JSON allows), well-formed UTF-8 (no overlong forms such as {@code C0 AF}, no encoded surrogates), exactly
 * one JSON value (nothing after it but whitespace), no duplicate keys and no lone surrogate escapes. Jackson alone
 * accepts the first three and keeps the first of two objects; a lenient reader lets a proxy or a filter in front
 * see one request while the server acts on another.
 *
 * <pre>{@code
 * JsonBody.requireJson(req.headers().contentType());           // 415 unless application/json
 * ObjectNode body = JsonBody.parse(bytes);                     // 400 naming what is wrong
 * }</pre>
 */
public final class JsonBody {
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    private JsonBody() {
    }

    /**
     * Refuses (415) a body that is not declared {@code application/json}: a form or plain-text body is what a web
     * page can send to a local server without a CORS preflight, so accepting it would let any page drive the
     * server. A charset, if given, must be UTF-8.
     *
     * @param contentType the header's value, or null when absent
     */
    public static void requireJson(String contentType) {
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw ApiException.unsupportedMediaType("the request body must be JSON, sent with \"Content-Type: "
                    + "application/json\"" + (contentType == null ? " (no Content-Type was given)"
                    : " (got \"" + PublicMessage.clip(contentType) + "\")"));
        }
        for (String param : contentType.split(";")) {
            String[] kv = param.split("=", 2);
            if (kv.length == 2 && kv[0].strip().equalsIgnoreCase("charset")) {
                String charset = kv[1].strip().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    throw ApiException.unsupportedMediaType("JSON bodies must be UTF-8, got charset \""
                            + PublicMessage.clip(charset) + "\"");
                }
            }
        }
    }

    /** The body as a JSON object, or a 400 naming the problem and where it is. */
    public static ObjectNode parse(byte[] bytes) {
        String text = utf8(bytes);
        JsonNode node;
        try (JsonParser p = JSON.createParser(text)) {
            node = JSON.readTree(p);
            if (node != null) requireEnd(p);
        } catch (StreamConstraintsException e) {
            // Jackson's text names its own classes ("from `StreamReadConstraints.getMaxNestingDepth()`").
            throw invalid(e.getOriginalMessage().replaceAll(",? ?from `[^`]*`", ""), e.getLocation());
        } catch (JsonProcessingException e) {
            throw invalid(PublicMessage.withoutCode(e.getOriginalMessage()), e.getLocation());
        } catch (IOException e) {
            throw ApiException.badRequest(null, "could not read the request body");
        }
        if (node == null || !node.isObject()) throw ApiException.badRequest(null, "the request body must be a JSON object");
        String surrogate = loneSurrogate(node, "");
        if (surrogate != null) {
            throw ApiException.badRequest(null, "the JSON holds a lone UTF-16 surrogate escape (\\uD800-\\uDFFF without"
                    + " its pair) in " + PublicMessage.clip(surrogate) + "; such a string is not Unicode text");
        }
        return (ObjectNode) node;
    }

    /** Nothing but whitespace may follow the value: not a second object, not stray text. */
    private static void requireEnd(JsonParser p) {
        JsonLocation after = p.currentLocation();
        boolean more;
        try {
            more = p.nextToken() != null;
        } catch (IOException e) {
            more = true;
        }
        if (more) throw invalid("there is more after the JSON object", after);
    }

    private static String utf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            CharBuffer chars = decoder.decode(in);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest(null, "the request body is not valid UTF-8 (at byte " + in.position() + ")");
        }
    }

    private static ApiException invalid(String problem, JsonLocation at) {
        String where = at == null || at.getLineNr() < 0 ? ""
                : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        return ApiException.badRequest(null, "We could not parse the JSON body of your request: " + problem + where);
    }

    /** Where the first string or key holding an unpaired surrogate is ("messages[0].content"), else null. */
    private static String loneSurrogate(JsonNode node, String path) {
        if (node.isTextual()) return unpaired(node.textValue()) ? (path.isEmpty() ? "the body" : path) : null;
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = loneSurrogate(node.get(i), path + "[" + i + "]");
                if (found != null) return found;
            }
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String where = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (unpaired(e.getKey())) return "a key";
                String found = loneSurrogate(e.getValue(), where);
                if (found != null) return found;
            }
        }
        return null;
    }

    private static boolean unpaired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
