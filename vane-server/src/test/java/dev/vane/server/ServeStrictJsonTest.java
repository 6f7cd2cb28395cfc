package dev.vane.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies are read as exactly one well-formed JSON object in well-formed UTF-8. Jackson on its own
 * accepts text after the object, keeps the first of two objects, decodes overlong UTF-8 and encoded surrogates,
 * and lets lone surrogate escapes through; a proxy or filter in front that reads strictly would see another
 * request than the server acts on.
 */
class ServeStrictJsonTest {
    static VaneServer server;

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static RawHttp.Response post(byte[] body) {
        return RawHttp.post(server.port(), "/v1/chat/completions", "localhost", "application/json", body);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A chat body whose user message is {@code contentBytes}, spliced in as raw bytes. */
    private static byte[] chatWithRawContent(byte[] contentBytes) {
        String body = Http.chat("MARK", 2).toString();
        int at = body.indexOf("MARK");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(utf8(body.substring(0, at)));
        out.writeBytes(contentBytes);
        out.writeBytes(utf8(body.substring(at + 4)));
        return out.toByteArray();
    }

    private static void assertRejected(RawHttp.Response r, String message) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().path("error").path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(r.error()).contains(message);
    }

    @Test
    void aWellFormedBodyIsAnswered() {
        assertThat(post(utf8(Http.chat("Hi \uD83D\uDE00 caf\u00e9", 2).toString() + " \r\n")).status()).isEqualTo(200);
        assertThat(post(chatWithRawContent(utf8("\\ud83d\\ude00 paired escapes"))).status()).isEqualTo(200);
    }

    @Test
    void textAfterTheObjectIs400() {
        String chat = Http.chat("Hi", 2).toString();
        assertRejected(post(utf8(chat + " trailing words")), "more after the JSON object");
        assertRejected(post(utf8(chat + chat)), "more after the JSON object");
        assertRejected(post(utf8(chat + "\n{\"model\": \"other\"}")), "more after the JSON object");
    }

    @Test
    void malformedUtf8Is400() {
        assertRejected(post(chatWithRawContent(new byte[]{'H', 'i', (byte) 0xC0, (byte) 0xAF})), "not valid UTF-8");
        // U+D800 encoded as if it were a character (CESU-8 style).
        assertRejected(post(chatWithRawContent(new byte[]{'H', 'i', (byte) 0xED, (byte) 0xA0, (byte) 0x80})),
                "not valid UTF-8");
        assertRejected(post(chatWithRawContent(new byte[]{'H', 'i', (byte) 0xFF})), "not valid UTF-8");
    }

    @Test
    void loneSurrogateEscapesAre400NamingTheField() {
        assertRejected(post(chatWithRawContent(utf8("Hi \\ud800"))), "lone UTF-16 surrogate");
        assertRejected(post(chatWithRawContent(utf8("\\udc00 low first"))), "messages[0].content");
        assertRejected(post(chatWithRawContent(utf8("\\ude00\\ud83d reversed pair"))), "lone UTF-16 surrogate");
    }

    @Test
    void duplicateKeysAre400() {
        String chat = Http.chat("Hi", 2).toString();
        assertRejected(post(utf8("{\"model\": \"x\", " + chat.substring(1))), "Duplicate field 'model'");
    }

    @Test
    void parserLimitsAreReportedWithoutNamingJavaClasses() {
        RawHttp.Response r = post(utf8("[".repeat(1200) + "]".repeat(1200)));
        assertRejected(r, "nesting depth");
        assertThat(r.error()).doesNotContain("`").doesNotContain("StreamReadConstraints").doesNotContain("jackson");
    }
}
