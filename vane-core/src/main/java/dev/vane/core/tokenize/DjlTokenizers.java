package dev.vane.core.tokenize;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.vane.core.InvalidInputException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Opens the Hugging Face tokenizers library (Rust, through DJL's JNI binding) on a {@code tokenizer.json}, with
 * everything DJL would otherwise do on its own turned off.
 *
 * <pre>{@code
 * HuggingFaceTokenizer native = DjlTokenizers.open(path, Files.readAllBytes(path));
 * }</pre>
 */
final class DjlTokenizers {
    static {
        // DJL's HuggingFaceTokenizer.newInstance calls Ec2Utils.callHome, which probes the EC2 metadata address
        // and may send telemetry, and on a machine with CUDA its LibUtils picks a CUDA build of the native library
        // that is not in the jar and downloads it. Offline mode stops both: the CPU library bundled in the jar is
        // used and nothing touches the network. A value the user set explicitly (-Dai.djl.offline=false, or the
        // DJL_OFFLINE environment variable, which DJL reads first) is respected.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    /**
     * DJL's defaults truncate to 512 tokens (with only a log warning) and pad; Hugging Face's {@code tokenizer(text)}
     * does neither. The prefix-space, lower-case and accent handling DJL does in Java is switched off because the
     * tokenizer.json pipeline already says what the model needs.
     */
    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false",
            "doLowerCase", "false",
            "stripAccents", "false",
            "addPrefixSpace", "false");

    private DjlTokenizers() {
    }

    /**
     * Builds the native tokenizer from the bytes of {@code file} (a tokenizer.json).
     *
     * @throws InvalidInputException if the tokenizers library rejects the file
     */
    static HuggingFaceTokenizer open(Path file, byte[] json) {
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (EngineException e) {
            throw e; // the native library itself failed to load: not a problem of this file
        } catch (RuntimeException e) {
            // The Rust side reports a malformed pipeline (unknown model type, bad merges) as a RuntimeException
            // whose message is serde's description of the problem.
            throw new InvalidInputException(file + ": the tokenizers library cannot load it: " + e.getMessage(), e);
        }
    }
}
