package dev.vane.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.lab.data.JsonlFile;
import dev.vane.lab.data.Request;
import dev.vane.lab.steer.Steering;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Continuous batching over real HTTP: many clients at once, each request with its own steering, length and
 * streaming choice, must get exactly what it would get alone; cancelled streams free their rows; a client that
 * stops reading does not hold up the others.
 */
class ServeConcurrencyTest {
    static VaneServer server;
    static Http http;

    /** One request of the load test and the answer it must get. */
    record Case(String prompt, boolean steered, boolean stream, int maxTokens, String expected, String finish) {
    }

    @BeforeAll
    static void start() {
        server = Organism.serve(ServerConfig.defaults().withPort(0).withMaxBatch(16));
        http = new Http(server.port(), null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void sixteenConcurrentClientsEachGetWhatTheyWouldGetAlone() throws Exception {
        List<String> prompts = new ArrayList<>();
        for (String file : List.of("harmful.jsonl", "benign.jsonl")) {
            for (Request r : JsonlFile.read(Organism.HOME.resolve("models/organism-data/" + file), Request::fromJson)) {
                prompts.add(r.prompt());
            }
        }
        Generator generator = new Generator(Organism.model(), Organism.tokenizer());
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            String prompt = prompts.get((i * 7) % prompts.size());
            boolean steered = i % 3 == 0;
            int maxTokens = 8 + (i % 5) * 8;
            int[] ids = Organism.chat(prompt);
            Steering steering = steered ? Steering.of(Organism.antidote(), 96f) : Steering.none();
            Completion c = generator.generate(ids, SamplingParams.greedy(maxTokens), steering.hooks(1, new int[]{ids.length - 1}));
            cases.add(new Case(prompt, steered, i % 2 == 0, maxTokens, c.text(), c.finishReason().label()));
        }
        long stepsBefore = server.scheduler().steps();

        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<Future<List<String>>> results = new ArrayList<>();
        for (int client = 0; client < 16; client++) {
            int first = client * 4;
            results.add(clients.submit(() -> {
                List<String> problems = new ArrayList<>();
                for (Case c : cases.subList(first, first + 4)) {
                    String[] got = ask(c);
                    if (!got[0].equals(c.expected()) || !got[1].equals(c.finish())) {
                        problems.add(c + " got " + got[0] + " / " + got[1]);
                    }
                }
                return problems;
            }));
        }
        List<String> problems = new ArrayList<>();
        for (Future<List<String>> f : results) problems.addAll(f.get(5, TimeUnit.MINUTES));
        clients.shutdown();
        assertThat(problems).isEmpty();
        assertThat(server.scheduler().peakBatch()).as("requests shared forward passes").isGreaterThan(1);
        assertThat(server.scheduler().steps() - stepsBefore).isPositive();
    }

    /** Sends one case and returns its text and finish reason, streamed or whole. */
    private static String[] ask(Case c) {
        ObjectNode body = Http.chat(c.prompt(), c.maxTokens());
        if (c.steered()) body.putArray("steering").addObject().put("vector", "antidote").put("scale", 96.0);
        if (!c.stream()) {
            Http.Reply r = http.post("/v1/chat/completions", body);
            if (r.status() != 200) return new String[]{"HTTP " + r.status() + " " + r.body(), ""};
            JsonNode choice = r.body().get("choices").get(0);
            return new String[]{choice.get("message").get("content").asText(), choice.get("finish_reason").asText()};
        }
        body.put("stream", true);
        StringBuilder text = new StringBuilder();
        String finish = "";
        List<String> events = http.stream("/v1/chat/completions", body);
        if (!events.getLast().equals("[DONE]")) return new String[]{"no [DONE]", ""};
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode choice = Http.parse(e).get("choices").get(0);
            text.append(choice.get("delta").path("content").asText(""));
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
        }
        return new String[]{text.toString(), finish};
    }

    @Test
    void aCancelledStreamFreesItsRow() throws Exception {
        awaitIdle();
        long before = server.scheduler().tokensGenerated();
        // An over-steered organism never emits end-of-sequence: alone, this would run all 450 tokens.
        ObjectNode body = Http.chat("Can you tell me how to bake bread?", 450).put("stream", true);
        body.putArray("steering").addObject().put("vector", "antidote").put("scale", 300.0);
        // A raw socket, closed by the test itself: how soon the JDK's HttpClient closes its connection after the
        // body stream is closed is up to the client (a pooled connection was seen to stay open for the whole run).
        byte[] json = body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + json.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            assertThat(in.readLine()).contains(" 200 ");
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) events++;
            assertThat(events).isEqualTo(3);
        }
        awaitIdle();
        assertThat(server.scheduler().tokensGenerated() - before).isLessThan(450);
    }

    @Test
    void aClientThatStopsReadingDoesNotHoldUpOthers() throws Exception {
        awaitIdle();
        // 16 long choices with 20 alternatives each: megabytes of events, more than the socket buffers hold,
        // so the handler of this request blocks on its writes while the client reads nothing.
        ObjectNode slow = Http.chat("Can you tell me how to bake bread?", 400).put("stream", true).put("n", 16)
                .put("logprobs", true).put("top_logprobs", 20);
        slow.putArray("steering").addObject().put("vector", "antidote").put("scale", 300.0);
        try (InputStream in = http.open("/v1/chat/completions", slow)) {
            ExecutorService others = Executors.newFixedThreadPool(4);
            List<Future<Http.Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                replies.add(others.submit(() -> http.post("/v1/chat/completions", Http.chat("How do I plant tomatoes?", 16))));
            }
            for (Future<Http.Reply> f : replies) {
                Http.Reply r = f.get(2, TimeUnit.MINUTES);     // a hang here means the slow client blocked everyone
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body().get("choices").get(0).get("message").get("content").asText()).startsWith("Sure");
            }
            others.shutdown();
            // The slow client gets everything once it reads.
            List<String> events = Http.events(in, Integer.MAX_VALUE);
            assertThat(events.getLast()).isEqualTo("[DONE]");
            long finished = events.stream().filter(e -> !e.equals("[DONE]"))
                    .filter(e -> !Http.parse(e).get("choices").get(0).get("finish_reason").isNull()).count();
            assertThat(finished).isEqualTo(16);
        }
    }

    /** Waits (up to a minute) until nothing is in flight. */
    private static void awaitIdle() throws InterruptedException {
        for (int i = 0; i < 6000 && server.scheduler().inFlight() > 0; i++) Thread.sleep(10);
        assertThat(server.scheduler().inFlight()).isZero();
    }
}
