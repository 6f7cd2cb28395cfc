package dev.vane.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code vane help PATH...} and {@code vane PARENT help CHILD} reach every nested command's own help. */
class HelpCommandTest {
    /** Every command below a parent command, as its path of names (steer build, eval ab, ...). */
    static Stream<List<String>> nestedCommands() {
        List<List<String>> paths = new ArrayList<>();
        for (var parent : Vane.commandLine().getSubcommands().entrySet()) {
            for (var child : parent.getValue().getSubcommands().entrySet()) {
                if (!child.getKey().equals("help")) paths.add(List.of(parent.getKey(), child.getKey()));
            }
        }
        return paths.stream();
    }

    private static String usage(List<String> path) {
        CommandLine cli = Vane.commandLine();
        for (String name : path) cli = cli.getSubcommands().get(name);
        return cli.getUsageMessage(cli.getColorScheme());
    }

    @Test
    void everyParentWithSubcommandsIsCovered() {
        assertThat(nestedCommands().map(p -> String.join(" ", p)))
                .contains("steer build", "steer show", "steer export-gguf", "steer import-gguf", "eval ab", "eval refusal",
                        "attack prefill", "attack decoding", "sweep heads", "train sft", "train merge");
    }

    @ParameterizedTest
    @MethodSource("nestedCommands")
    void helpThenPathShowsTheNestedCommandsHelp(List<String> path) {
        List<String> args = new ArrayList<>(List.of("help"));
        args.addAll(path);
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("Usage: vane " + String.join(" ", path) + " ").isEqualTo(usage(path));
    }

    @ParameterizedTest
    @MethodSource("nestedCommands")
    void parentHelpChildShowsTheNestedCommandsHelp(List<String> path) {
        CliRun run = CliRun.of(path.get(0), "help", path.get(1));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo(usage(path));
    }

    @Test
    void anUnknownNameIsBadInputNamingTheChoices() {
        CliRun run = CliRun.of("help", "steer", "bulid");
        assertThat(run.exitCode()).isEqualTo(Vane.BAD_INPUT);
        assertThat(run.err()).contains("'vane steer' has no command 'bulid'").contains("build, show");
    }

    @Test
    void helpAloneAndOneLevelStillWork() {
        assertThat(CliRun.of("help").out()).isEqualTo(usage(List.of()));
        assertThat(CliRun.of("help", "generate").out()).isEqualTo(usage(List.of("generate")));
    }

    @Test
    void exampleLinesAreNeverWrapped() {
        List<CommandLine> all = new ArrayList<>();
        java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(List.of(Vane.commandLine()));
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            all.add(c);
            todo.addAll(c.getSubcommands().values().stream().filter(s -> !s.getCommandName().equals("help")).toList());
        }
        for (CommandLine c : all) {
            List<String> rendered = c.getUsageMessage(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF)).lines().toList();
            for (String line : c.getCommandSpec().usageMessage().footer()) {
                // Each line as written, on a line of its own: picocli wraps longer lines mid-word.
                if (!line.isBlank()) assertThat(rendered).as(c.getCommandSpec().qualifiedName()).contains(line.stripTrailing());
            }
        }
    }

    @Test
    void errorsNameTheFullCommand() {
        CliRun run = CliRun.of("steer", "build", "--method", "caa", "--data", "no-such-file.jsonl");
        assertThat(run.exitCode()).isEqualTo(Vane.BAD_INPUT);
        assertThat(run.err()).startsWith("vane steer build: error: ");
    }
}
