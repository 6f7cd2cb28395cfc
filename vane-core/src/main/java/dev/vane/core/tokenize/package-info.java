/**
 * Tokenizers and chat templates of Hugging Face checkpoints: ids, token strings and decoded text from Hugging
 * Face's own tokenizers library (through DJL), and chat templates rendered by Vane's sandboxed Jinja interpreter
 * ({@link dev.vane.core.jinja.Template}) to give the text transformers' {@code apply_chat_template} gives.
 *
 * <pre>{@code
 * try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
 *     String prompt = tokenizer.chatTemplate().orElseThrow()
 *             .render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
 *     int[] ids = tokenizer.encode(prompt);
 * }
 * }</pre>
 */
package dev.vane.core.tokenize;
