package dev.vane.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import dev.vane.core.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The end-of-sequence tokens of a checkpoint: every id in {@code generation_config.json}'s
 * {@code eos_token_id} (a number or a list) together with config.json's.
 *
 * <pre>{@code
 * GenerationConfig g = GenerationConfig.read(Path.of("models/organism-chat"), model.config());
 * int[] stopIds = g.eosIds();
 * }</pre>
 *
 * @param eosIds token ids that end a sequence
 */
public record GenerationConfig(int[] eosIds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code generation_config.json} from {@code dir} when present. */
    public static GenerationConfig read(Path dir, ModelConfig config) {
        Set<Integer> ids = new LinkedHashSet<>();
        Path file = dir.resolve("generation_config.json");
        if (Files.isRegularFile(file)) {
            JsonNode root;
            try {
                root = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new InvalidInputException(file, "not valid JSON: " + e.getMessage());
            }
            if (root == null || !root.isObject()) throw new InvalidInputException(file, "not a JSON object");
            try {
                for (int id : ModelConfig.eosIds(root.get("eos_token_id"), "eos_token_id")) ids.add(id);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(file, e.getMessage());
            }
        }
        for (int id : config.eosTokenIds()) ids.add(id);
        return new GenerationConfig(ids.stream().mapToInt(Integer::intValue).toArray());
    }
}
