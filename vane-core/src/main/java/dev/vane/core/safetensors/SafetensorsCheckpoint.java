package dev.vane.core.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vane.core.InvalidInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A Hugging Face model directory: either sharded ({@code model.safetensors.index.json} plus the shard files it
 * names) or a single safetensors file. Each tensor is served from the shard that holds it.
 *
 * <pre>{@code
 * try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(Path.of("models/llama3"))) {
 *     MemorySegment q = weights.segment("model.layers.0.self_attn.q_proj.weight");
 * }
 * }</pre>
 *
 * <p>Which file is used, in order: the index if present; else {@code model.safetensors}; else the only
 * {@code *.safetensors} file in the directory ({@code reference.safetensors}, Vane's test data, does not count).
 */
public final class SafetensorsCheckpoint implements TensorSource {
    static final String INDEX_FILE = "model.safetensors.index.json";
    static final String SINGLE_FILE = "model.safetensors";
    /** Vane's recorded reference activations sit next to the weights but are not part of the model. */
    static final String REFERENCE_FILE = "reference.safetensors";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final SortedMap<String, SafetensorsFile> fileByTensor;

    private SafetensorsCheckpoint(Path dir, List<SafetensorsFile> files, SortedMap<String, SafetensorsFile> fileByTensor) {
        this.dir = dir;
        this.files = files;
        this.fileByTensor = Collections.unmodifiableSortedMap(fileByTensor);
    }

    /**
     * Opens and validates every file of the checkpoint in {@code dir}.
     *
     * @throws InvalidInputException if the directory holds no usable checkpoint or any file in it is malformed
     */
    public static SafetensorsCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir, "is not a directory");
        }
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return openSharded(dir, index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            return openSingle(dir, single);
        }
        List<Path> candidates = listSafetensors(dir);
        if (candidates.size() == 1) {
            return openSingle(dir, candidates.getFirst());
        }
        String found = candidates.isEmpty() ? ""
                : " (found " + candidates.stream().map(p -> p.getFileName().toString()).toList()
                  + " and cannot tell which one is the model)";
        throw new InvalidInputException(dir, "no model.safetensors or model.safetensors.index.json" + found);
    }

    private static SafetensorsCheckpoint openSingle(Path dir, Path file) {
        SafetensorsFile opened = SafetensorsFile.open(file);
        SortedMap<String, SafetensorsFile> byTensor = new TreeMap<>();
        opened.names().forEach(name -> byTensor.put(name, opened));
        return new SafetensorsCheckpoint(dir, List.of(opened), byTensor);
    }

    private static List<Path> listSafetensors(Path dir) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : stream) {
                if (!p.getFileName().toString().equals(REFERENCE_FILE) && Files.isRegularFile(p)) {
                    found.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        found.sort(null);
        return found;
    }

    private static SafetensorsCheckpoint openSharded(Path dir, Path index) {
        Map<String, String> shardByTensor = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            // Many tensors share a shard; open (and validate) each shard once.
            for (String shardName : new TreeSet<>(shardByTensor.values())) {
                Path shardPath = dir.resolve(shardName);
                if (!Files.isRegularFile(shardPath)) {
                    throw new InvalidInputException(index, "shard '" + shardName + "' named in weight_map does not exist in " + dir);
                }
                shards.put(shardName, SafetensorsFile.open(shardPath));
            }
            SortedMap<String, SafetensorsFile> byTensor = new TreeMap<>();
            shardByTensor.forEach((tensor, shardName) -> {
                SafetensorsFile shard = shards.get(shardName);
                if (!shard.contains(tensor)) {
                    throw new InvalidInputException(index, "weight_map puts tensor '" + tensor + "' in shard '"
                            + shardName + "', but " + shard.path() + " does not contain it");
                }
                byTensor.put(tensor, shard);
            });
            return new SafetensorsCheckpoint(dir, List.copyOf(shards.values()), byTensor);
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            throw new InvalidInputException(index, "is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + index, e);
        }
        JsonNode weightMap = root == null ? null : root.path("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new InvalidInputException(index, "has no weight_map object mapping tensor names to shard files");
        }
        Map<String, String> shardByTensor = new TreeMap<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            String tensor = entry.getKey();
            if (!entry.getValue().isTextual()) {
                throw new InvalidInputException(index, "weight_map entry for tensor '" + tensor + "' is not a file name");
            }
            String shard = entry.getValue().textValue();
            if (!isPlainFileName(shard)) {
                // The index comes from outside; a path could make us read any file on the machine.
                throw new InvalidInputException(index, "weight_map entry for tensor '" + tensor + "' names shard '"
                        + shard + "', which is not a plain file name inside the checkpoint directory");
            }
            shardByTensor.put(tensor, shard);
        }
        return shardByTensor;
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.chars().noneMatch(c -> c == '/' || c == '\\' || c == ':' || c == 0);
    }

    @Override
    public Set<String> names() {
        return fileByTensor.keySet();
    }

    @Override
    public boolean contains(String name) {
        return fileByTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    @Override
    public MemorySegment segment(String name) {
        return fileOf(name).segment(name);
    }

    private SafetensorsFile fileOf(String name) {
        SafetensorsFile file = fileByTensor.get(name);
        if (file == null) {
            throw new InvalidInputException("tensor '" + name + "' not found in " + dir);
        }
        return file;
    }

    /** The checkpoint directory. */
    @Override
    public Path path() {
        return dir;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "SafetensorsCheckpoint[" + dir + ", " + files.size() + " file(s), " + fileByTensor.size() + " tensors]";
    }
}
