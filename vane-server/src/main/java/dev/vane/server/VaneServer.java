package dev.vane.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.GenerationConfig;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.server.batch.BatchScheduler;
import dev.vane.server.openai.ApiException;
import dev.vane.server.openai.ChatDialect;
import dev.vane.server.openai.GenerationRequest;
import dev.vane.server.openai.RequestParser;
import dev.vane.server.openai.TextDialect;
import dev.vane.server.steer.SteeringPolicy;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP server for one model, with per-request steering: {@code POST /v1/chat/completions},
 * {@code POST /v1/completions}, {@code GET /v1/models}, {@code GET /health}. Requests in flight share forward
 * passes ({@link BatchScheduler}); each may name steering vectors from the server's registry.
 *
 * <pre>{@code
 * try (Model model = Model.load(dir); Tokenizer tokenizer = Tokenizer.load(dir);
 *      VaneServer server = VaneServer.start(model, tokenizer, SteeringPolicy.of(registry, List.of()),
 *              ServerConfig.defaults().withPort(0))) {
 *     System.out.println("http://127.0.0.1:" + server.port() + "/v1");
 * }
 * }</pre>
 *
 * <p>Built on Helidon SE's web server: each request runs on its own virtual thread, so a request simply blocks
 * while it waits for tokens or for a slow client to read them, and only that request waits.
 */
public final class VaneServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServerConfig config;
    private final String modelName;
    private final BatchScheduler scheduler;
    private final RequestParser parser;
    private final byte[] apiKey;
    private final WebServer web;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final long created = System.currentTimeMillis() / 1000;

    private VaneServer(Model model, Tokenizer tokenizer, SteeringPolicy steering, ServerConfig config) {
        this.config = config;
        this.modelName = model.directory().toAbsolutePath().normalize().getFileName().toString();
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        int[] eos = GenerationConfig.read(model.directory(), model.config()).eosIds();
        // Token texts for log-probabilities: special tokens shown, as OpenAI-style servers show them.
        ChatDialect chat = new ChatDialect(id -> tokenizer.decode(new int[]{id}, false));
        TextDialect text = new TextDialect(id -> tokenizer.decode(new int[]{id}, false));
        this.parser = new RequestParser(tokenizer, modelName, model.config().maxPositions(),
                new RequestParser.Limits(config.maxTokens(), config.maxChoices(), config.maxChoices()), steering, chat, text);
        requirePortFree(config);
        this.scheduler = new BatchScheduler(model, tokenizer, eos, config.maxBatch(), config.maxWaiting());
        WebServer started;
        try {
            started = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    // No Helidon payload limit: body() enforces ours (never reading more than the limit) and
                    // answers with OpenAI's error shape, which Helidon's own 413 would not.
                    .shutdownHook(false)
                    .routing(this::routes)
                    .build()
                    .start();
        } catch (RuntimeException e) {
            scheduler.close();
            throw new InvalidInputException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        // Helidon does not throw when its listener fails to bind (a port taken between our check and its bind):
        // it logs, shuts down and reports port -1.
        if (!started.isRunning() || started.port() < 0) {
            started.stop();
            scheduler.close();
            throw new InvalidInputException("cannot listen on port " + config.port() + " on " + config.host()
                    + " (see the log above); choose another with --port");
        }
        this.web = started;
    }

    /**
     * Fails with one line when the port is taken, before Helidon tries: its own bind failure is a logged stack
     * trace and a server reporting port -1, not an exception.
     */
    private static void requirePortFree(ServerConfig config) {
        if (config.port() == 0) return;
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(config.host(), config.port()));
        } catch (BindException e) {
            throw new InvalidInputException("port " + config.port() + " on " + config.host()
                    + " is in use; choose another with --port", e);
        } catch (IOException e) {
            throw new InvalidInputException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
    }

    /** Starts serving {@code model}; returns once the port is bound. */
    public static VaneServer start(Model model, Tokenizer tokenizer, SteeringPolicy steering, ServerConfig config) {
        return new VaneServer(model, tokenizer, steering, config);
    }

    /** The bound port (the chosen one when the config said 0). */
    public int port() {
        return web.port();
    }

    /** The name clients use in {@code model}: the checkpoint folder's name. */
    public String modelName() {
        return modelName;
    }

    /** The scheduler (for statistics). */
    public BatchScheduler scheduler() {
        return scheduler;
    }

    private void routes(HttpRouting.Builder r) {
        r.get("/health", (req, res) -> handle(res, () -> health(res)))
                .get("/v1/models", (req, res) -> handle(res, () -> {
                    authorize(req);
                    json(res, 200, models());
                }))
                .get("/v1/models/{id}", (req, res) -> handle(res, () -> {
                    authorize(req);
                    String id = req.path().pathParameters().get("id");
                    if (!id.equals(modelName)) throw ApiException.notFound("model_not_found", "The model '" + id + "' does not exist.");
                    json(res, 200, model());
                }))
                .post("/v1/chat/completions", (req, res) -> handle(res, () -> complete(req, res, true)))
                .post("/v1/completions", (req, res) -> handle(res, () -> complete(req, res, false)))
                .any((req, res) -> handle(res, () -> {
                    throw ApiException.notFound("unknown_url", "Unknown request URL: " + req.prologue().method().text()
                            + " " + req.path().path());
                }));
    }

    /** Runs a handler, turning every failure into an OpenAI error response. */
    private void handle(ServerResponse res, Runnable handler) {
        activeRequests.incrementAndGet();
        try {
            if (closing.get()) throw ApiException.unavailable();
            handler.run();
        } catch (ApiException e) {
            error(res, e);
        } catch (InvalidInputException e) {
            error(res, ApiException.badRequest(null, e.getMessage()));
        } catch (BatchScheduler.QueueFullException e) {
            error(res, ApiException.busy(e.getMessage()));
        } catch (BatchScheduler.ClosedException e) {
            error(res, ApiException.unavailable());
        } catch (UncheckedIOException | CloseConnectionException e) {
            // The client went away mid-response: nobody to answer; its sequences were cancelled.
        } catch (RuntimeException e) {
            System.err.println("vane serve: internal error: " + e);
            e.printStackTrace();
            error(res, ApiException.internal("internal error: " + e.getClass().getSimpleName()));
        } finally {
            activeRequests.decrementAndGet();
        }
    }

    private void complete(ServerRequest req, ServerResponse res, boolean chat) {
        authorize(req);
        ObjectNode body = body(req);
        GenerationRequest request = chat ? parser.chat(body) : parser.completion(body);
        new CompletionRun(request).serve(scheduler, new CompletionRun.Output() {
            @Override
            public void json(JsonNode value) {
                VaneServer.json(res, 200, value);
            }

            @Override
            public OutputStream eventStream() {
                res.status(200);
                res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
                res.header(HeaderNames.CACHE_CONTROL, "no-cache");
                return res.outputStream();
            }
        });
    }

    /** Checks {@code Authorization: Bearer KEY} in constant time when the server has a key. */
    private void authorize(ServerRequest req) {
        if (apiKey == null) return;
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        byte[] given = header.startsWith("Bearer ") ? header.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, apiKey)) throw ApiException.unauthorized();
    }

    /** The body as a JSON object, at most {@code maxBodyBytes}. */
    private ObjectNode body(ServerRequest req) {
        long limit = config.maxBodyBytes();
        if (req.headers().contentLength().orElse(0) > limit) throw ApiException.tooLarge(limit);
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes((int) limit + 1);
        } catch (IOException | UncheckedIOException e) {
            throw ApiException.badRequest(null, "could not read the request body");
        }
        if (bytes.length > limit) throw ApiException.tooLarge(limit);
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw ApiException.badRequest(null, "We could not parse the JSON body of your request: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest(null, "could not read the request body");
        }
        if (node == null || !node.isObject()) throw ApiException.badRequest(null, "the request body must be a JSON object");
        return (ObjectNode) node;
    }

    private void health(ServerResponse res) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "ok");
        body.put("model", modelName);
        body.put("in_flight", scheduler.inFlight());
        json(res, 200, body);
    }

    private ObjectNode models() {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        data.add(model());
        return root;
    }

    private ObjectNode model() {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", modelName);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "vane");
        return m;
    }

    private static void error(ServerResponse res, ApiException e) {
        if (res.isSent()) return;
        if (e.status() == 401) res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        json(res, e.status(), e.body(JSON));
    }

    private static void json(ServerResponse res, int status, JsonNode body) {
        try {
            res.status(status);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send(JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Shuts down gracefully: new requests get 503, requests in flight finish within the configured grace
     * period or end with finish reason "abort" (streams still get their final chunk and {@code [DONE]}), then
     * the port closes.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        scheduler.shutdown(config.shutdownGrace());
        // The handlers write their last bytes after the scheduler let go of them: give them a moment.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (activeRequests.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        web.stop();
    }
}
