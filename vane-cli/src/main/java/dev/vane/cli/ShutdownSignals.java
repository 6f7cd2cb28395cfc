package dev.vane.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SIGTERM and SIGINT (Ctrl-C) as a request to shut down, handled by the command rather than by the JVM. The
 * JVM's own handling runs the shutdown hooks and then always exits with 128 + the signal (143 for SIGTERM), so a
 * server that drained every request cleanly would still look failed to systemd, Docker or Kubernetes. Here the
 * first signal only calls {@code onSignal}; the command drains and returns its own exit code. A second signal
 * while it drains stops the process at once, with the JVM's usual code.
 *
 * <p>{@code sun.misc.Signal} is the JDK's only way to handle a signal (module jdk.unsupported, supported by the
 * JDK for exactly this). Where a signal cannot be handled (the JVM was started with {@code -Xrs}), the JVM's
 * own handling stays and the command's shutdown hook still drains, exiting 143.
 *
 * <pre>{@code
 * CountDownLatch stop = new CountDownLatch(1);
 * try (ShutdownSignals signals = ShutdownSignals.install(stop::countDown)) {
 *     stop.await();          // until Ctrl-C or SIGTERM
 *     server.close();        // drain
 * }
 * return 0;
 * }</pre>
 */
final class ShutdownSignals implements AutoCloseable {
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private volatile boolean received;

    private ShutdownSignals() {
    }

    /** Handles SIGTERM and SIGINT until {@link #close()}, which restores the handlers before. */
    static ShutdownSignals install(Runnable onSignal) {
        ShutdownSignals signals = new ShutdownSignals();
        for (String name : List.of("TERM", "INT")) {
            Signal signal = new Signal(name);
            try {
                signals.previous.put(signal, Signal.handle(signal, s -> signals.received(s, onSignal)));
            } catch (IllegalArgumentException e) {
                // Not available on this JVM: its own handling (shutdown hooks, exit 128 + n) stays.
            }
        }
        return signals;
    }

    private void received(Signal s, Runnable onSignal) {
        if (received) Runtime.getRuntime().halt(128 + s.getNumber());
        received = true;
        onSignal.run();
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
