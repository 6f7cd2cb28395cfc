package dev.vane.core.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Native libraries shipped inside Maven Central's {@code org.bytedeco} jars (linux-x86_64 classifier), copied out
 * into one folder of the cache so that they can be loaded by path: each library finds the others beside it
 * through its RUNPATH ({@code $ORIGIN}). The folder is named after the main library's jar version, so an upgrade
 * gets a fresh folder and processes sharing a cache never load a half-written file.
 *
 * <pre>{@code
 * NativeBundle bundle = new NativeBundle(List.of(
 *         "org/bytedeco/openblas/linux-x86_64/libgfortran.so.5",
 *         "org/bytedeco/openblas/linux-x86_64/libopenblas.so.0"));     // the main library last
 * Path lib = bundle.extract(classLoader, CacheFolder.resolve());      // .../native/openblas-0.3.31-1.5.13/libopenblas.so.0
 * }</pre>
 *
 * @param resources class-path resources of the libraries, dependencies first and the main library last
 */
record NativeBundle(List<String> resources) {
    NativeBundle {
        resources = List.copyOf(resources);
        if (resources.isEmpty()) throw new IllegalArgumentException("no libraries");
    }

    /** Why the bundled libraries cannot run on this machine, or null: they are built for linux-x86_64 only. */
    static String platformProblem(String library) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) return null;
        return library + " is bundled for linux-x86_64 only, this is " + os + "-" + arch;
    }

    /**
     * Copies the libraries out of {@code loader}'s class path into {@code cache/native/ARTIFACT-VERSION} (once
     * per version; a temporary folder where the cache is not writable) and returns the main library's path.
     */
    Path extract(ClassLoader loader, Path cache) throws IOException {
        String main = resources.getLast();
        URL probe = loader.getResource(main);
        if (probe == null) throw new IOException("the " + jarOf(main) + " jar is not on the class path");
        String artifact = artifactOf(main);
        Path dir = cache.resolve("native").resolve(artifact + "-" + versionOf(probe, artifact));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            dir = Files.createTempDirectory("vane-" + artifact);
            dir.toFile().deleteOnExit();
        }
        for (String resource : resources) {
            String name = resource.substring(resource.lastIndexOf('/') + 1);
            URL url = loader.getResource(resource);
            if (url == null) throw new IOException(name + " is missing: the " + jarOf(resource) + " jar is not on the class path");
            URLConnection connection = url.openConnection();
            long size = connection.getContentLengthLong();
            Path target = dir.resolve(name);
            if (Files.isRegularFile(target) && size >= 0 && Files.size(target) == size) continue;
            // another process may be copying the same file: write aside, then rename into place
            Path part = Files.createTempFile(dir, name, ".part");
            try (InputStream in = connection.getInputStream()) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(part);
            }
        }
        return dir.resolve(main.substring(main.lastIndexOf('/') + 1));
    }

    /** {@code org/bytedeco/dnnl/linux-x86_64/libdnnl.so.3} comes from the artifact {@code dnnl}. */
    private static String artifactOf(String resource) {
        String[] parts = resource.split("/");
        return parts.length > 2 ? parts[2] : resource;
    }

    private static String jarOf(String resource) {
        return "org.bytedeco:" + artifactOf(resource) + " linux-x86_64";
    }

    /** The jar's file name carries the version (openblas-0.3.31-1.5.13-linux-x86_64.jar). */
    private static String versionOf(URL resource, String artifact) {
        String s = resource.toString();
        int bang = s.indexOf("!/");
        String jar = bang > 0 ? s.substring(0, bang) : s;
        String name = jar.substring(jar.lastIndexOf('/') + 1);
        return name.startsWith(artifact + "-") && name.endsWith(".jar")
                ? name.substring(artifact.length() + 1, name.length() - ".jar".length())
                : Integer.toHexString(jar.hashCode());
    }
}
