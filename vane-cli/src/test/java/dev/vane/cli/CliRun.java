package dev.vane.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the vane command line in-process and captures what it printed (public: vane-spark's tests use it too). */
public record CliRun(int exitCode, String out, String err) {
    public static CliRun of(String... args) {
        return withInput("", args);
    }

    public static CliRun of(java.util.List<String> args) {
        return of(args.toArray(String[]::new));
    }

    /** Runs with {@code input} as the standard input of interactive commands. */
    public static CliRun withInput(String input, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = Vane.commandLine();
        ((ChatCommand) cli.getSubcommands().get("chat").getCommand()).input =
                new java.io.ByteArrayInputStream(input.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
