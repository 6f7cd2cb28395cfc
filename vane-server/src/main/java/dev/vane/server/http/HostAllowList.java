package dev.vane.server.http;

import dev.vane.core.InvalidInputException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code Host} header values a server answers. A server on loopback is reachable from every web page the
 * machine's browser opens: a page on {@code evil.example} whose DNS name is re-pointed at 127.0.0.1 (DNS
 * rebinding) sends requests the browser treats as same-origin, so it could read the answers. Those requests carry
 * {@code Host: evil.example}; accepting only loopback names on a loopback bind shuts that door.
 *
 * <pre>{@code
 * HostAllowList hosts = HostAllowList.forBind("127.0.0.1", List.of("vane.lan"));
 * hosts.allows("localhost:8080");      // true
 * hosts.allows("vane.lan");            // true
 * hosts.allows("evil.example:8080");   // false
 * }</pre>
 */
public final class HostAllowList {
    /** The names a browser uses for this machine itself; DNS cannot re-point them. */
    static final List<String> LOOPBACK_NAMES = List.of("localhost", "127.0.0.1", "[::1]");

    private final Set<String> names;
    private final boolean any;

    private HostAllowList(Set<String> names, boolean any) {
        this.names = names;
        this.any = any;
    }

    /**
     * The list for a server bound to {@code bindHost}: the loopback names plus {@code extra}, where {@code "*"}
     * allows any name. With no {@code extra}, a server bound to a non-loopback address (0.0.0.0, a LAN address)
     * accepts any name: it is meant to be reached under names this machine cannot know.
     */
    public static HostAllowList forBind(String bindHost, List<String> extra) {
        Set<String> names = new LinkedHashSet<>(LOOPBACK_NAMES);
        boolean any = extra.isEmpty() && !isLoopback(bindHost);
        for (String e : extra) {
            String name = e.strip().toLowerCase(Locale.ROOT);
            if (name.equals("*")) {
                any = true;
                continue;
            }
            if (name.isEmpty() || !name.equals(hostName(name))) {
                throw new InvalidInputException("allowed host \"" + e + "\" is not a host name (give names without"
                        + " scheme, port or path, an IPv6 address in brackets, or * for any)");
            }
            names.add(name);
        }
        return new HostAllowList(Set.copyOf(names), any);
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** True when a request with this {@code Host} header (null when absent) may be answered. */
    public boolean allows(String hostHeader) {
        if (any) return true;
        if (hostHeader == null) return false;
        String name = hostName(hostHeader.strip().toLowerCase(Locale.ROOT));
        return name != null && names.contains(name);
    }

    /** Whether every name is accepted. */
    public boolean allowsAny() {
        return any;
    }

    /**
     * The name part of a {@code Host} value ({@code name[:port]}, {@code [v6][:port]}), or null when it is not
     * one: a port must be digits, a bracketed address must close.
     */
    static String hostName(String value) {
        String name, rest;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0) return null;
            name = value.substring(0, close + 1);
            rest = value.substring(close + 1);
        } else {
            int colon = value.indexOf(':');
            name = colon < 0 ? value : value.substring(0, colon);
            rest = colon < 0 ? "" : value.substring(colon);
        }
        if (!rest.isEmpty() && !rest.matches(":[0-9]{1,5}")) return null;
        if (name.isEmpty() || !name.matches("\\[[0-9a-f:.]+]|[a-z0-9._-]+")) return null;
        return name;
    }
}
