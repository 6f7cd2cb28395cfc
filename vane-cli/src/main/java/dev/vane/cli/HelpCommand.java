package dev.vane.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code vane help [COMMAND [SUBCOMMAND]...]}, also under each command with subcommands ({@code vane steer help
 * build}). Picocli's own help command takes one name, so {@code vane help steer build} showed steer's help: this one
 * walks the whole path from the command it is attached to.
 */
@Command(name = "help", helpCommand = true,
        description = "Show the help of a command, or of a subcommand: vane help steer build.")
final class HelpCommand implements Runnable, CommandLine.IHelpCommandInitializable2 {
    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command (and subcommands) to describe.")
    List<String> path = new ArrayList<>();

    private CommandLine self;
    private CommandLine.Help.ColorScheme colors;
    private PrintWriter out;

    @Override
    public void init(CommandLine helpCommandLine, CommandLine.Help.ColorScheme colorScheme, PrintWriter out, PrintWriter err) {
        this.self = helpCommandLine;
        this.colors = colorScheme;
        this.out = out;
    }

    @Override
    public void run() {
        CommandLine target = self.getParent();
        StringBuilder walked = new StringBuilder(target.getCommandSpec().qualifiedName());
        for (String name : path) {
            CommandLine next = target.getSubcommands().get(name);
            if (next == null) {
                throw new CommandLine.ParameterException(self, "'" + walked + "' has no command '" + name
                        + "'; its commands: " + String.join(", ", target.getSubcommands().keySet()));
            }
            target = next;
            walked.append(' ').append(name);
        }
        target.usage(out, colors);
        out.flush();
    }
}
