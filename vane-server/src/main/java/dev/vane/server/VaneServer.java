package dev.vane.server;

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
import dev.vane.server.http.ConnectionWatchdog;
import dev.vane.server.http.CorsPolicy;
import dev.vane.server.http.DroppedClientLog;
import dev.vane.server.http.HostAllowList;
import dev.vane.server.openai.GenerationRequest;
import dev.vane.server.openai.JsonBody;
import dev.vane.server.openai.PublicMessage;
import dev.vane.server.openai.RequestParser;
import dev.vane.server.openai.TextDialect;
import dev.vane.server.judge.AnswerJudge;
import dev.vane.server.playground.PlaygroundFiles;
import dev.vane.server.steer.SteeringPolicy;
import dev.vane.server.steer.VectorCatalog;
import dev.vane.lab.judge.DegenerateRule;
import dev.vane.lab.judge.KeywordRefusalJudge;
import dev.vane.lab.judge.OutcomeJudge;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
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
 * passes ({@link BatchScheduler}); each may name steering vectors from the server's registry. {@code GET /} is the
 * web playground ({@link PlaygroundFiles}), which uses the chat endpoint and Vane's own {@code GET /v1/vane/info}
 * and {@code GET /v1/vane/vectors} ({@link VectorCatalog}).
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
 *
 * <p>What no web page and no slow client can do: every request must name a Host this server answers
 * ({@link HostAllowList}), gets CORS headers only for an allowed origin ({@link CorsPolicy}), and sends a body only
 * as strict JSON ({@link JsonBody}); each connection has deadlines for its headers, its body and its idle time,
 * and their number is capped ({@link ConnectionLimits}, {@link ConnectionWatchdog}). HTTP/1.0 is answered with
 * 505 and the proxy setting that avoids it.
 */
public final class VaneServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServerConfig config;
    private final String modelName;
    private final BatchScheduler scheduler;
    private final RequestParser parser;
    private final byte[] apiKey;
    private final WebServer web;
    private final HostAllowList hosts;
    private final CorsPolicy cors;
    private final ConnectionWatchdog watchdog;
    private final SteeringPolicy steering;
    private final AnswerJudge judge;
    private final PlaygroundFiles playground = PlaygroundFiles.load();
    private final int context;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final long created = System.currentTimeMillis() / 1000;

    private VaneServer(Model model, Tokenizer tokenizer, SteeringPolicy steering, ServerConfig config) {
        this.config = config;
        this.steering = steering;
        this.context = model.config().maxPositions();
        this.modelName = model.directory().toAbsolutePath().normalize().getFileName().toString();
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        int[] eos = GenerationConfig.read(model.directory(), model.config()).eosIds();
        // Token texts for log-probabilities: special tokens shown, as OpenAI-style servers show them.
        ChatDialect chat = new ChatDialect(id -> tokenizer.decode(new int[]{id}, false));
        TextDialect text = new TextDialect(id -> tokenizer.decode(new int[]{id}, false));
        this.parser = new RequestParser(tokenizer, modelName, model.config().maxPositions(),
                new RequestParser.Limits(config.maxTokens(), config.maxChoices(), config.maxChoices()), steering, chat, text);
        this.hosts = HostAllowList.forBind(config.host(), config.allowedHosts());
        this.cors = CorsPolicy.of(config.corsOrigins());
        requirePortFree(config);
        ConnectionLimits limits = config.limits();
        this.watchdog = new ConnectionWatchdog(limits.headerTimeout(), limits.bodyTimeout(), limits.idleTimeout(),
                new DroppedClientLog(System.err::println, Duration.ofMinutes(1), System::nanoTime));
        this.scheduler = new BatchScheduler(model, tokenizer, eos, config.maxBatch(), config.maxWaiting());
        this.judge = new AnswerJudge(model, tokenizer);
        WebServer started;
        try {
            started = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    // No Helidon payload limit: body() enforces ours (never reading more than the limit) and
                    // answers with OpenAI's error shape, which Helidon's own 413 would not.
                    .shutdownHook(false)
                    // The watched HTTP/1.1 selector is the only protocol: discovery would add Helidon's plain one
                    // beside it, and with two candidates Helidon reads bytes before choosing, unwatched.
                    .protocolsDiscoverServices(false)
                    .addConnectionSelector(watchdog.http1Selector())
                    .maxTcpConnections(limits.maxConnections())
                    .directHandlers(DirectHandlers.builder()
                            .addHandler(DirectHandler.EventType.HTTP_VERSION_NOT_SUPPORTED, VaneServer::http10)
                            .build())
                    .routing(this::routes)
                    .build()
                    .start();
        } catch (RuntimeException e) {
            scheduler.close();
            watchdog.close();
            throw new InvalidInputException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        // Helidon does not throw when its listener fails to bind (a port taken between our check and its bind):
        // it logs, shuts down and reports port -1.
        if (!started.isRunning() || started.port() < 0) {
            started.stop();
            scheduler.close();
            watchdog.close();
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
        r.addFilter(VaneServer::watchPhases)
                .get("/health", (req, res) -> handle(req, res, () -> health(res)))
                .get("/", (req, res) -> handle(req, res, () -> page(req, res)))
                .get("/playground/{file}", (req, res) -> handle(req, res, () -> page(req, res)))
                .get("/v1/vane/info", (req, res) -> handle(req, res, () -> json(res, 200, info())))
                .get("/v1/vane/vectors", (req, res) -> handle(req, res, () -> {
                    authorize(req);
                    json(res, 200, VectorCatalog.json(steering));
                }))
                .get("/v1/models", (req, res) -> handle(req, res, () -> {
                    requireOpen(req);
                    authorize(req);
                    json(res, 200, models());
                }))
                .get("/v1/models/{id}", (req, res) -> handle(req, res, () -> {
                    requireOpen(req);
                    authorize(req);
                    String id = req.path().pathParameters().get("id");
                    if (!id.equals(modelName)) throw ApiException.notFound("model_not_found", "The model '" + id + "' does not exist.");
                    json(res, 200, model());
                }))
                .post("/v1/chat/completions", (req, res) -> handle(req, res, () -> complete(req, res, true)))
                .post("/v1/completions", (req, res) -> handle(req, res, () -> {
                    requireOpen(req);
                    complete(req, res, false);
                }))
                .route(Method.OPTIONS, (req, res) -> handle(req, res, () -> preflight(req, res)))
                .any((req, res) -> handle(req, res, () -> {
                    throw ApiException.notFound("unknown_url", "Unknown request URL: " + req.prologue().method().text()
                            + " " + req.path().path());
                }));
    }

    /**
     * A file of the web playground; serving the page also starts the judge's calibration, so that the first
     * answer's verdict does not wait for it.
     */
    private void page(ServerRequest req, ServerResponse res) {
        String path = req.path().path();
        PlaygroundFiles.File file = playground.find(path).orElseThrow(() -> ApiException.notFound("unknown_url",
                "Unknown request URL: GET " + PublicMessage.clip(path)));
        if (path.equals("/")) judge.warmUp();
        playground.send(file, res);
    }

    /** With {@code --playground}, the endpoints the page does not use answer 404 and say why. */
    private void requireOpen(ServerRequest req) {
        if (!config.playgroundOnly()) return;
        throw ApiException.notFound("playground_only", "This server runs with --playground: it answers only the "
                + "playground (GET /) and the endpoints it uses (/v1/chat/completions, /v1/vane/*, /health), not "
                + req.prologue().method().text() + " " + req.path().path() + ".");
    }

    /**
     * {@code GET /v1/vane/info}, open without the key: what a client needs before it has one (whether it needs
     * one at all), the served model, its limits and the judge's state.
     */
    private ObjectNode info() {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "vane.server");
        o.put("model", modelName);
        o.put("context_length", context);
        o.put("max_tokens_limit", config.maxTokens());
        o.put("api_key_required", apiKey != null);
        o.put("playground_only", config.playgroundOnly());
        ObjectNode j = o.putObject("judge");
        j.put("scheme", OutcomeJudge.SCHEME);
        j.put("refusal_judge", KeywordRefusalJudge.defaults().name());
        j.put("calibration_prompts", AnswerJudge.CALIBRATION_PROMPTS.size());
        DegenerateRule rule = judge.rule();
        if (rule == null) j.putNull("rule");
        else j.set("rule", rule.json());
        return o;
    }

    /**
     * Tells the connection's watchdog where the request is (headers in, body due or not; response written), and
     * closes the connection after the response when the client sent {@code Connection: close}: Helidon 4.5 answers
     * with {@code Connection: close} but then waits for another request, leaving it to the client to hang up,
     * where RFC 9112 (9.6) has the server close.
     */
    private static void watchPhases(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        boolean close = req.headers().containsToken(HeaderValues.CONNECTION_CLOSE);
        ConnectionWatchdog.requestStarted(req.content().hasEntity());
        try {
            chain.proceed();
        } finally {
            ConnectionWatchdog.requestDone();
        }
        // Responses are written through to the socket before the handler returns; closing loses nothing.
        if (close && res.isSent()) throw new CloseConnectionException("the client asked to close the connection");
    }

    /**
     * Runs a handler behind the checks every request passes (its Host is one this server answers; CORS headers
     * only for an allowed origin), turning every failure into an OpenAI error response.
     */
    private void handle(ServerRequest req, ServerResponse res, Runnable handler) {
        activeRequests.incrementAndGet();
        try {
            String host = req.headers().first(HeaderNames.HOST).orElse(null);
            if (!hosts.allows(host)) {
                throw ApiException.forbidden("host_not_allowed", "This server does not answer requests for host \""
                        + (host == null ? "" : PublicMessage.clip(host)) + "\"; start it with --allowed-hosts NAME"
                        + " to accept a name other than localhost.");
            }
            String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
            if (cors.allows(origin)) {
                res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                res.header(HeaderNames.VARY, "Origin");
            }
            if (closing.get()) throw ApiException.unavailable();
            handler.run();
        } catch (ApiException e) {
            error(res, e);
        } catch (InvalidInputException e) {
            error(res, ApiException.badRequest(null, e));
        } catch (BatchScheduler.QueueFullException e) {
            error(res, ApiException.busy(e.getMessage()));
        } catch (BatchScheduler.ClosedException e) {
            error(res, ApiException.unavailable());
        } catch (UncheckedIOException | CloseConnectionException e) {
            // The client went away (or its socket was closed for a timeout): nobody to answer; its sequences were
            // cancelled. On this exception Helidon closes the connection without logging an error.
            throw e instanceof CloseConnectionException c ? c : new CloseConnectionException("client went away", e);
        } catch (RuntimeException e) {
            System.err.println("vane serve: internal error: " + e);
            e.printStackTrace();
            error(res, ApiException.internal());
        } finally {
            activeRequests.decrementAndGet();
        }
    }

    /** A CORS preflight: answered for allowed origins only, so no other page's JSON request ever follows it. */
    private void preflight(ServerRequest req, ServerResponse res) {
        String origin = req.headers().first(HeaderNames.ORIGIN).orElse(null);
        if (!cors.allows(origin)) {
            throw ApiException.forbidden("origin_not_allowed", origin == null
                    ? "OPTIONS answers CORS preflight requests only, and this one names no Origin."
                    : "Cross-origin requests from " + PublicMessage.clip(origin) + " are not allowed; start the server"
                    + " with --cors ORIGIN to allow a browser origin.");
        }
        String asked = req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("");
        // Browser clients add their own headers (the OpenAI SDK's x-stainless-*): an allowed origin may send any.
        boolean headerNames = asked.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+( *, *[A-Za-z0-9!#$%&'*+.^_`|~-]+)*");
        res.status(204);
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, headerNames ? asked : "Authorization, Content-Type");
        res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, Integer.toString(CorsPolicy.PREFLIGHT_MAX_AGE));
        res.send();
    }

    /** Helidon's answer to HTTP/1.0 (it speaks only 1.1), with a body that says what to change. */
    private static DirectHandler.TransportResponse http10(DirectHandler.TransportRequest request,
                                                          DirectHandler.EventType type, Status status,
                                                          ServerResponseHeaders headers, String message) {
        try {
            return DirectHandler.TransportResponse.builder()
                    .status(Status.HTTP_VERSION_NOT_SUPPORTED_505)
                    .headers(headers)
                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                    .entity(JSON.writeValueAsBytes(ApiException.http10().body(JSON)))
                    .keepAlive(false)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void complete(ServerRequest req, ServerResponse res, boolean chat) {
        authorize(req);
        ObjectNode body = body(req);
        GenerationRequest request = chat ? parser.chat(body) : parser.completion(body);
        new CompletionRun(request, judge).serve(scheduler, new CompletionRun.Output() {
            @Override
            public void json(JsonNode value) {
                VaneServer.json(res, 200, value);
            }

            @Override
            public OutputStream eventStream() {
                res.status(200);
                res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
                res.header(HeaderNames.CACHE_CONTROL, "no-cache");
                // nginx buffers proxied responses by default, which would hold events back until the end.
                res.header(HeaderNames.create("X-Accel-Buffering"), "no");
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

    /** The body as one JSON object, at most {@code maxBodyBytes}, read strictly ({@link JsonBody}). */
    private ObjectNode body(ServerRequest req) {
        JsonBody.requireJson(req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null));
        long limit = config.maxBodyBytes();
        if (req.headers().contentLength().orElse(0) > limit) throw ApiException.tooLarge(limit);
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes((int) limit + 1);
        } catch (IOException | UncheckedIOException | DataReader.InsufficientDataAvailableException
                 | ServerConnectionException e) {
            // The client hung up mid-body, or the watchdog closed it past the body timeout: nobody to answer.
            throw new CloseConnectionException("the request body could not be read", e);
        }
        if (bytes.length > limit) throw ApiException.tooLarge(limit);
        ConnectionWatchdog.bodyRead();
        return JsonBody.parse(bytes);
    }

    /** Connections open now (for tests and statistics). */
    public int openConnections() {
        return watchdog.openConnections();
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
        try {
            json(res, e.status(), e.body(JSON));
        } catch (UncheckedIOException gone) {
            throw new CloseConnectionException("client went away", gone);
        }
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

    /** True once {@link #close()} has begun. */
    public boolean isClosed() {
        return closing.get();
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
        watchdog.close();
    }
}
