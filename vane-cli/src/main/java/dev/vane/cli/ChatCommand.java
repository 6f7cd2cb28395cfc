package dev.vane.cli;

import dev.vane.core.InvalidInputException;
import dev.vane.core.generate.ChatPrompt;
import dev.vane.core.generate.Completion;
import dev.vane.core.generate.Generator;
import dev.vane.core.generate.SamplingParams;
import dev.vane.core.model.Model;
import dev.vane.core.tokenize.ChatMessage;
import dev.vane.core.tokenize.Tokenizer;
import dev.vane.lab.steer.Steering;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vane chat}: an interactive conversation with streamed answers. */
@Command(name = "chat",
        description = {"Talk with a model in the terminal. Answers stream as they are generated; the conversation "
                + "is kept until /reset.",
                "Commands: /reset (forget the conversation), /system TEXT (set the system message and reset), "
                        + "/system (show it), /quit (or end of input). Other lines starting with / are refused as "
                        + "unknown commands; start a message with // to send it with one /."},
        footerHeading = "%nExamples:%n",
        footer = {"  vane chat", "  vane chat --model ~/models/Llama-3.2-1B-Instruct --temperature 0.7 --seed 3",
                "  vane chat --steer vectors/antidote.safetensors", "  vane chat --adapter runs/sft-harmful/adapter"},
        mixinStandardHelpOptions = true)
final class ChatCommand implements Callable<Integer> {
    private static final String COMMANDS = "/reset, /system [TEXT], /quit; //TEXT sends TEXT starting with /";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    SteerOption steer;

    @Mixin
    AdapterOption adapters;

    @Option(names = "--system", paramLabel = "TEXT", description = "Initial system message.")
    String system;

    /** Where the user's lines come from (tests replace it). */
    java.io.InputStream input = System.in;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SamplingParams params = sampling.params();
        try (Model model = adapters.load(modelOption.resolve()); Tokenizer tokenizer = Tokenizer.load(model.directory())) {
            tokenizer.chatTemplate().orElseThrow(() -> new InvalidInputException(model.directory(),
                    "the model has no chat_template in tokenizer_config.json"));
            Generator generator = new Generator(model, tokenizer);
            Steering steering = steer.steering(model.config());
            List<ChatMessage> conversation = new ArrayList<>();
            err.println("Chatting with " + model.directory() + (adapters.dirs.isEmpty() ? "" : " + adapter " + adapters.describe())
                    + " (" + COMMANDS + ")");
            BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
            int turn = 0;
            while (true) {
                err.print("> ");
                err.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/quit")) break;
                line = line.strip();
                if (line.isEmpty()) continue;
                if (line.equals("/reset")) {
                    conversation.clear();
                    err.println("(conversation reset)");
                    continue;
                }
                if (line.equals("/system")) {
                    err.println(system == null || system.isEmpty() ? "(no system message; /system TEXT sets one)"
                            : "(system message: " + system + ")");
                    continue;
                }
                if (line.startsWith("/system ")) {
                    system = line.substring("/system".length()).strip();
                    conversation.clear();
                    err.println("(system message set; conversation reset)");
                    continue;
                }
                // A line starting with "/" is a command (a typo such as /rest must not reach the model as text);
                // "//" sends the rest as text starting with "/".
                if (line.startsWith("//")) {
                    line = line.substring(1);
                } else if (line.startsWith("/")) {
                    err.println("unknown command " + line.split("\\s+")[0] + "; commands: " + COMMANDS);
                    continue;
                }
                List<ChatMessage> messages = new ArrayList<>();
                if (system != null && !system.isEmpty()) messages.add(ChatMessage.system(system));
                messages.addAll(conversation);
                messages.add(ChatMessage.user(line));
                try {
                    int[] ids = ChatPrompt.encode(tokenizer, messages, "");
                    Completion c = generator.generate(List.of(ids), params.withSeed(params.seed() + turn++),
                            steering.hooks(1, new int[]{ids.length - 1}), (row, id, text) -> {
                                out.print(text);
                                out.flush();
                            }).getFirst();
                    out.println();
                    out.flush();
                    conversation.add(ChatMessage.user(line));
                    conversation.add(ChatMessage.assistant(c.text()));
                } catch (InvalidInputException e) {
                    err.println("error: " + e.getMessage() + " (try /reset)");
                }
            }
        }
        return 0;
    }
}
