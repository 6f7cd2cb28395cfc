package dev.vane.spark;

import dev.vane.cli.Vane;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs the vane command line in-process, as the user would, and keeps what it printed. */
record Cli(int exitCode, String out, String err) {
    static Cli run(List<String> args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cli = Vane.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args.toArray(String[]::new));
        return new Cli(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
}
