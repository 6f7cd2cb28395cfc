package dev.vane.core.generate;

import dev.vane.core.InvalidInputException;
import dev.vane.core.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GenerationConfigTest {
    @TempDir
    Path dir;

    private ModelConfig config() throws IOException {
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 128, "vocab_size": 100, "rms_norm_eps": 1e-5, "eos_token_id": 2}
                """);
        return ModelConfig.read(dir);
    }

    @Test
    void eosIdsOfBothFilesAreJoined() throws IOException {
        ModelConfig c = config();
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [7, 2]}");
        assertThat(GenerationConfig.read(dir, c).eosIds()).containsExactly(7, 2);
    }

    @Test
    void anEosThatIsNotATokenIdNamesTheFile() throws IOException {
        ModelConfig c = config();
        Path file = dir.resolve("generation_config.json");
        Files.writeString(file, "{\"eos_token_id\": \"four\"}");
        assertThatThrownBy(() -> GenerationConfig.read(dir, c)).isInstanceOf(InvalidInputException.class)
                .hasMessageContainingAll(file.toString(), "eos_token_id", "four");
        Files.writeString(file, "[1]");
        assertThatThrownBy(() -> GenerationConfig.read(dir, c)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not a JSON object");
    }
}
