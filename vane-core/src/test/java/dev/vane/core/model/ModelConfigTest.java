package dev.vane.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vane.core.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelConfigTest {

    @TempDir
    Path tmp;

    private static ModelConfig fixture(String family) {
        return ModelConfig.read(Fixtures.dir(family));
    }

    /** A minimal valid llama config with {@code extra} JSON members spliced in (they override nothing). */
    private static String llama(String extra) {
        return """
                {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100, "rms_norm_eps": 1e-5%s}
                """.formatted(extra.isEmpty() ? "" : ", " + extra);
    }

    private Path write(String json) throws IOException {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void llama2FixtureHasPlainLlamaFlags() {
        ModelConfig c = fixture("llama2");
        assertThat(c.family()).isEqualTo(Family.LLAMA);
        assertThat(c.dModel()).isEqualTo(64);
        assertThat(c.layers()).isEqualTo(3);
        assertThat(c.heads()).isEqualTo(4);
        assertThat(c.kvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.dFf()).isEqualTo(172);
        assertThat(c.vocabSize()).isEqualTo(739);
        assertThat(c.normEps()).isEqualTo(1e-5);
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
        assertThat(c.maxPositions()).isEqualTo(256);
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.slidingLayers()).containsExactly(false, false, false);
        assertThat(c.tiedEmbeddings()).isFalse();
        assertThat(c.activation()).isEqualTo(Activation.SILU);
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.outputBias()).isFalse();
        assertThat(c.mlpBias()).isFalse();
        assertThat(c.qkNorm()).isFalse();
        assertThat(c.normOffset()).isZero();
        assertThat(c.embeddingScale()).isEqualTo(1f);
        assertThat(c.sandwichNorms()).isFalse();
        assertThat(c.attentionSoftcap()).isZero();
        assertThat(c.finalSoftcap()).isZero();
        assertThat(c.attentionScale()).isEqualTo(0.25f);
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.eosTokenIds()).containsExactly(2);
    }

    @Test
    void llama3FixtureHasLlama3RopeScalingAndGqa() {
        ModelConfig c = fixture("llama3");
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling("llama3", 8.0, 1.0, 4.0, 32));
        assertThat(c.heads()).isEqualTo(8);
        assertThat(c.kvHeads()).isEqualTo(2);
        assertThat(c.groupSize()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.bosTokenId()).isZero();
        assertThat(c.eosTokenIds()).containsExactly(4);
    }

    @Test
    void gemma2FixtureHasSoftcapsSandwichNormsAndAlternatingWindow() {
        ModelConfig c = fixture("gemma2");
        assertThat(c.family()).isEqualTo(Family.GEMMA2);
        assertThat(c.layers()).isEqualTo(4);
        assertThat(c.slidingWindow()).isEqualTo(8);
        assertThat(c.slidingLayers()).containsExactly(true, false, true, false);
        assertThat(c.isSliding(0)).isTrue();
        assertThat(c.isSliding(1)).isFalse();
        assertThat(c.isSliding(2)).isTrue();
        assertThat(c.isSliding(3)).isFalse();
        assertThat(c.attentionSoftcap()).isEqualTo(50f);
        assertThat(c.finalSoftcap()).isEqualTo(30f);
        // query_pre_attn_scalar 24, not head_dim 16
        assertThat(c.attentionScale()).isEqualTo((float) (1.0 / Math.sqrt(24.0)));
        assertThat(c.attentionScale()).isNotEqualTo(0.25f);
        assertThat(c.sandwichNorms()).isTrue();
        assertThat(c.normOffset()).isEqualTo(1f);
        assertThat(c.embeddingScale()).isEqualTo(8f);
        assertThat(c.activation()).isEqualTo(Activation.GELU_TANH);
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.kvHeads()).isEqualTo(2);
    }

    @Test
    void gemmaFixtureHasHeadDimIndependentOfWidth() {
        ModelConfig c = fixture("gemma");
        assertThat(c.family()).isEqualTo(Family.GEMMA);
        assertThat(c.dModel()).isEqualTo(64);
        assertThat(c.heads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(32);
        assertThat(c.kvHeads()).isEqualTo(1);
        assertThat(c.attentionScale()).isEqualTo((float) (1.0 / Math.sqrt(32.0)));
        assertThat(c.normOffset()).isEqualTo(1f);
        assertThat(c.embeddingScale()).isEqualTo(8f);
        assertThat(c.sandwichNorms()).isFalse();
        assertThat(c.attentionSoftcap()).isZero();
        assertThat(c.finalSoftcap()).isZero();
        assertThat(c.activation()).isEqualTo(Activation.GELU_TANH);
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(c.slidingWindow()).isZero();
    }

    @Test
    void qwen2FixtureHasQkvBiasAndTiedEmbeddings() {
        ModelConfig c = fixture("qwen2");
        assertThat(c.family()).isEqualTo(Family.QWEN2);
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.outputBias()).isFalse();
        assertThat(c.tiedEmbeddings()).isTrue();
        assertThat(c.qkNorm()).isFalse();
        assertThat(c.ropeTheta()).isEqualTo(1_000_000.0);
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.normOffset()).isZero();
        assertThat(c.bosTokenId()).as("bos_token_id null").isEqualTo(-1);
    }

    @Test
    void qwen3FixtureHasQkNorm() {
        ModelConfig c = fixture("qwen3");
        assertThat(c.family()).isEqualTo(Family.QWEN3);
        assertThat(c.qkNorm()).isTrue();
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.tiedEmbeddings()).isTrue();
    }

    @Test
    void mistralFixtureSlidesOnEveryLayer() {
        ModelConfig c = fixture("mistral");
        assertThat(c.family()).isEqualTo(Family.MISTRAL);
        assertThat(c.slidingWindow()).isEqualTo(8);
        assertThat(c.slidingLayers()).containsExactly(true, true, true);
        assertThat(c.kvHeads()).isEqualTo(1);
        assertThat(c.groupSize()).isEqualTo(4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "qwen2", "mistral", "gemma", "gemma2", "qwen3"})
    void perturbedFixturesWithRopeParametersParseLikeTheClassicLayout(String family) throws IOException {
        JsonNode raw = new ObjectMapper().readTree(Fixtures.dir(family + "-perturbed").resolve("config.json").toFile());
        assertThat(raw.has("rope_parameters")).isTrue();
        assertThat(raw.has("rope_theta") || raw.has("rope_scaling")).as("classic rope keys").isFalse();
        ModelConfig classic = fixture(family);
        ModelConfig perturbed = fixture(family + "-perturbed");
        assertThat(perturbed.ropeTheta()).isEqualTo(classic.ropeTheta());
        assertThat(perturbed.ropeScaling()).isEqualTo(classic.ropeScaling());
        assertThat(perturbed.slidingWindow()).isEqualTo(classic.slidingWindow());
        assertThat(perturbed.slidingLayers()).isEqualTo(classic.slidingLayers());
        assertThat(perturbed.headDim()).isEqualTo(classic.headDim());
        assertThat(perturbed.attentionScale()).isEqualTo(classic.attentionScale());
    }

    @Test
    void llama3PerturbedReadsScalingFromRopeParameters() {
        ModelConfig c = fixture("llama3-perturbed");
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling("llama3", 8.0, 1.0, 4.0, 32));
    }

    @Test
    void classicRopeScalingWithTypeKeyAndLinear() throws IOException {
        ModelConfig c = ModelConfig.read(write(llama("""
                "rope_theta": 1234.5, "rope_scaling": {"type": "linear", "factor": 2.5}""")));
        assertThat(c.ropeTheta()).isEqualTo(1234.5);
        assertThat(c.ropeScaling()).isEqualTo(new RopeScaling("linear", 2.5, 0, 0, 0));
    }

    @Test
    void defaultsWhenOptionalKeysAreAbsent() throws IOException {
        ModelConfig c = ModelConfig.read(write(llama("")));
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.maxPositions()).isEqualTo(4096);
        assertThat(c.activation()).isEqualTo(Activation.SILU);
        assertThat(c.bosTokenId()).isEqualTo(-1);
        assertThat(c.eosTokenIds()).isEmpty();
    }

    @Test
    void readsTheFileOrItsDirectory() throws IOException {
        Path file = write(llama(""));
        assertThat(ModelConfig.read(tmp).dModel()).isEqualTo(ModelConfig.read(file).dModel()).isEqualTo(64);
    }

    @Test
    void eosListIsKept() throws IOException {
        assertThat(ModelConfig.read(write(llama("\"eos_token_id\": [7, 9]"))).eosTokenIds()).containsExactly(7, 9);
    }

    // ---- errors ----------------------------------------------------------------------------------------

    private void assertConfigError(String json, String... fragments) throws IOException {
        Path file = write(json);
        assertThatThrownBy(() -> ModelConfig.read(file))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("config.json")
                .hasMessageContainingAll(fragments);
    }

    @Test
    void unknownModelTypeListsSupportedTypes() throws IOException {
        assertConfigError(llama("").replace("\"llama\"", "\"gpt2\""),
                "gpt2", "llama, mistral, qwen2, qwen3, gemma, gemma2");
    }

    @Test
    void missingHiddenSize() throws IOException {
        assertConfigError(llama("").replace("\"hidden_size\": 64,", ""), "hidden_size", "missing");
    }

    @Test
    void missingModelType() throws IOException {
        assertConfigError(llama("").replace("\"model_type\": \"llama\",", ""), "model_type", "missing");
    }

    @Test
    void yarnRopeScalingIsUnsupported() throws IOException {
        assertConfigError(llama("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"),
                "yarn", "not supported");
    }

    @Test
    void yarnInRopeParametersIsUnsupportedToo() throws IOException {
        assertConfigError(llama("\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 10000.0, \"factor\": 4.0}"),
                "yarn", "not supported");
    }

    @Test
    void headsMustBeAMultipleOfKvHeads() throws IOException {
        assertConfigError(llama("").replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"),
                "num_attention_heads (4)", "num_key_value_heads (3)");
    }

    @Test
    void notJson() throws IOException {
        assertConfigError("{\"model_type\": \"llama\", hidden_size", "not valid JSON");
    }

    @Test
    void jsonArrayIsNotAConfig() throws IOException {
        assertConfigError("[1, 2]", "not a JSON object");
    }

    @Test
    void missingFileNamesConfigJson() {
        assertThatThrownBy(() -> ModelConfig.read(tmp))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(tmp.resolve("config.json").toString())
                .hasMessageContaining("not found");
    }

    @Test
    void llama3ScalingWithoutItsFactorsFails() throws IOException {
        assertConfigError(llama("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}"),
                "low_freq_factor");
    }

    @Test
    void oddHeadDimIsRejected() throws IOException {
        assertConfigError(llama("\"head_dim\": 15"), "head_dim", "15");
    }

    @Test
    void unsupportedActivationIsNamed() throws IOException {
        assertConfigError(llama("\"hidden_act\": \"relu\""), "relu", "not supported");
    }

    @Test
    void nonPositiveSizesAreRejected() throws IOException {
        assertConfigError(llama("").replace("\"vocab_size\": 100", "\"vocab_size\": 0"), "vocab_size", "positive");
    }

    /** Impossible values name the file, the field and the value instead of running into garbage. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"rms_norm_eps\": -1                     | rms_norm_eps | -1",
            "\"rms_norm_eps\": \"tiny\"               | rms_norm_eps | tiny",
            "\"rms_norm_eps\": 0                      | rms_norm_eps | (0, 1)",
            "\"rope_theta\": 0                        | rope_theta   | positive",
            "\"rope_theta\": -10000                   | rope_theta   | -10000",
            "\"rope_theta\": \"big\"                  | rope_theta   | big",
            "\"sliding_window\": -1                   | sliding_window | -1",
            "\"eos_token_id\": \"four\"               | eos_token_id | four",
            "\"eos_token_id\": [2, -3]                | eos_token_id | -3",
            "\"bos_token_id\": 1.5                    | bos_token_id | 1.5",
            "\"tie_word_embeddings\": \"yes\"         | tie_word_embeddings | yes",
            "\"head_dim\": \"16\"                     | head_dim     | 16",
            "\"max_position_embeddings\": -4          | max_position_embeddings | -4"})
    void impossibleValuesAreRejected(String field, String name, String shown) throws IOException {
        String json = llama("").replace("\"rms_norm_eps\": 1e-5", "\"rms_norm_eps\": 1e-5, " + field);
        if (field.startsWith("\"rms_norm_eps\"")) json = llama("").replace("\"rms_norm_eps\": 1e-5", field);
        assertConfigError(json, name, shown);
    }

    @Test
    void absurdCountsFailBeforeAllocating() throws IOException {
        long t0 = System.nanoTime();
        assertConfigError(llama("").replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1000000000"),
                "num_hidden_layers", "1000000000", "4096 at most");
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds").isLessThan(2);
    }

    @Test
    void mistralWithoutAWindowSaysZeroOrNull() throws IOException {
        String mistral = llama("\"sliding_window\": null").replace("\"llama\"", "\"mistral\"");
        assertThat(ModelConfig.read(write(mistral)).slidingWindow()).isZero();
        assertThat(ModelConfig.read(write(mistral.replace("null", "0"))).slidingWindow()).isZero();
    }

    @Test
    void slidingLayersWithoutAWindowAreRejected() throws IOException {
        assertConfigError(llama("\"layer_types\": [\"sliding_attention\", \"full_attention\"]"), "sliding_window");
    }

    @Test
    void layerTypesDecideWhichLayersSlide() throws IOException {
        ModelConfig c = ModelConfig.read(write(llama(
                "\"layer_types\": [\"full_attention\", \"sliding_attention\"], \"sliding_window\": 4")));
        assertThat(c.slidingWindow()).isEqualTo(4);
        assertThat(c.slidingLayers()).containsExactly(false, true);
    }

    @Test
    void qwen2SlidingWindowOnlyWhenEnabled() throws IOException {
        String base = llama("\"sliding_window\": 16, \"max_window_layers\": 1").replace("\"llama\"", "\"qwen2\"");
        ModelConfig off = ModelConfig.read(write(base));
        assertThat(off.slidingWindow()).isZero();
        assertThat(off.slidingLayers()).containsExactly(false, false);
        ModelConfig on = ModelConfig.read(write(base.replace("\"sliding_window\"", "\"use_sliding_window\": true, \"sliding_window\"")));
        assertThat(on.slidingWindow()).isEqualTo(16);
        assertThat(on.slidingLayers()).containsExactly(false, true);
    }

    @Test
    void layerTypesMustMatchLayerCount() throws IOException {
        assertConfigError(llama("\"layer_types\": [\"full_attention\"], \"sliding_window\": 4"),
                "layer_types", "1 entries", "2 layers");
    }
}
