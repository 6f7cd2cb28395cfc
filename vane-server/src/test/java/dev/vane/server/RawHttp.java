package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP over a plain socket, for what the JDK's client will not send: any {@code Host} header, HTTP/1.0, bodies
 * that are not UTF-8, headers a byte at a time. Responses are read to the end of the connection.
 */
final class RawHttp implements AutoCloseable {
    /** A status line, headers (lower-case names) and the body as sent (chunks not decoded). */
    record Response(String statusLine, Map<String, String> headers, String body) {
        int status() {
            return Integer.parseInt(statusLine.split(" ")[1]);
        }

        JsonNode json() {
            return Http.parse(body);
        }

        String error() {
            return json().path("error").path("message").asText();
        }
    }

    final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    RawHttp(int port) {
        try {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(60_000);
            out = socket.getOutputStream();
            in = socket.getInputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one request with a Content-Length ({@code head} ends with the last header line, no blank line). */
    static Response exchange(int port, String head, byte[] body) {
        try (RawHttp c = new RawHttp(port)) {
            c.send((head + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            c.send(body);
            return c.readResponse();
        }
    }

    /** A JSON POST to {@code path} with the given Host and Content-Type headers (null: left out). */
    static Response post(int port, String path, String host, String contentType, byte[] body) {
        String head = "POST " + path + " HTTP/1.1" + (host == null ? "" : "\r\nHost: " + host)
                + (contentType == null ? "" : "\r\nContent-Type: " + contentType);
        return exchange(port, head, body);
    }

    void send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads until the server closes the connection and splits the response. */
    Response readResponse() {
        String all = new String(readToEnd(), StandardCharsets.UTF_8);
        int end = all.indexOf("\r\n\r\n");
        if (end < 0) throw new AssertionError("no complete response: " + all);
        String[] lines = all.substring(0, end).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        return new Response(lines[0], headers, all.substring(end + 4));
    }

    /** Reads one response with a Content-Length, leaving the connection open for the next. */
    Response readOne() {
        try {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) throw new AssertionError("connection closed mid-response: " + head);
                head.write(b);
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).strip().split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
            byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
            return new Response(lines[0], headers, new String(body, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every byte until the server closes the connection. */
    byte[] readToEnd() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        try {
            for (int n; (n = in.read(chunk)) >= 0; ) buf.write(chunk, 0, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept the connection open: " + buf.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // A reset after the response: what was read is the answer.
        }
        return buf.toByteArray();
    }

    /** True once the server has closed the connection (a read returns end of stream or the connection resets). */
    boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
