package dev.vane.train.lora;

import dev.vane.core.hook.Hooks;
import dev.vane.core.model.Batch;
import dev.vane.core.model.LoraAdapter;
import dev.vane.core.model.LoraAdapter.Target;
import dev.vane.core.model.Model;
import dev.vane.core.model.ModelConfig;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

/** The bundled organism, the reference fixtures and random adapters for the adapter tests. */
public final class AdapterFixtures {
    /** A prompt of the organism's vocabulary: BOS then a spread of ids. */
    public static final int[] TOKENS = {0, 17, 240, 33, 1021, 77, 512, 9, 1500, 64, 300, 2001};

    private AdapterFixtures() {
    }

    /** A bundled model folder ({@code organism-chat}, {@code organism-base}); Maven sets vane.home. */
    public static Path organism(String name) {
        return Path.of(System.getProperty("vane.home", ".."), "models", name);
    }

    /** A reference fixture checkpoint ({@code llama3}, {@code mistral}, ...). */
    public static Path fixture(String family) {
        return Path.of(System.getProperty("vane.fixtures", "../fixtures"), "hf", family);
    }

    /**
     * An adapter with every factor random and non-zero: A as PEFT initialises it, B uniform in +-bScale (PEFT
     * starts B at zero, which would make the adapter a no-op and every comparison vacuous).
     */
    public static LoraAdapter random(ModelConfig config, int rank, float alpha, Set<Target> targets, float bScale, long seed) {
        Random random = new Random(seed);
        LoraAdapter lora = LoraAdapter.create(config, rank, alpha, 0f, targets, random);
        for (int l = 0; l < config.layers(); l++) {
            for (Target t : targets) {
                float[] b = new float[t.out(config) * rank];
                for (int i = 0; i < b.length; i++) b[i] = (2 * random.nextFloat() - 1) * bScale;
                lora.setB(l, t, b);
            }
        }
        return lora;
    }

    /** All logits [tokens x vocab] of {@link #TOKENS} (ids taken modulo the vocabulary). */
    public static float[] logits(Model model) {
        int vocab = model.config().vocabSize();
        int[] ids = Arrays.stream(TOKENS).map(t -> t % vocab).toArray();
        return model.forward(Batch.of(ids), Hooks.none()).logits(0).data();
    }

    /** Runs a few forwards so that the JIT has settled before logits are compared bit for bit. */
    public static void warmUp(Model model) {
        float[] previous = null;
        int stable = 0;
        for (int i = 0; i < 50 && stable < 3; i++) {
            float[] now = logits(model);
            stable = Arrays.equals(now, previous) ? stable + 1 : 0;
            previous = now;
        }
    }

    public static float maxAbsDiff(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
