package dev.vane.lab.distribute;

import dev.vane.core.model.Model;
import dev.vane.core.tokenize.Tokenizer;

/**
 * A model loaded for a job's workers, with its tokenizer; kept open for the life of the JVM
 * ({@link ModelSetup#load()}).
 *
 * @param model     the model, adapters applied
 * @param tokenizer its tokenizer and chat template
 */
public record LoadedModel(Model model, Tokenizer tokenizer) { }
