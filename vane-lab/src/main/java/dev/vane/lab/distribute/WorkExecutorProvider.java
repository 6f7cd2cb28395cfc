package dev.vane.lab.distribute;

import java.util.Map;

/**
 * Opens cluster executors; found with {@link java.util.ServiceLoader} (the {@code vane-spark} module registers
 * one in {@code META-INF/services}), so no other module depends on the one that brings the cluster's library.
 *
 * <pre>{@code
 * WorkExecutor e = WorkExecutor.cluster("local[2]", Map.of(), "vane demo");    // finds the provider
 * }</pre>
 */
public interface WorkExecutorProvider {
    /** An executor on {@code master}, with the cluster settings {@code conf}, as application {@code appName}. */
    WorkExecutor open(String master, Map<String, String> conf, String appName);
}
