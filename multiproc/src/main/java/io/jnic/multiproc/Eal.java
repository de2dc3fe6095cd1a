package io.jnic.multiproc;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Runs an app's command line: runtime options, then {@code --} and the app's own (DPDK's EAL shape). */
public final class Eal {
    private Eal() {
    }

    /** A command line for {@code app} whose help also lists the app's own options. */
    public static CommandLine commandLine(EalApplication app) {
        CommandLine cl = new CommandLine(app);
        Object own = app.appOptions();
        CommandLine appCl = own == null ? null : new CommandLine(own);
        if (appCl != null) {
            String appUsage = appCl.getHelp().optionList();
            cl.getCommandSpec().usageMessage().footer(
                    "%nApplication options (after --):%n" + appUsage.replace("%", "%%"));
        }
        cl.setExecutionStrategy(parseResult -> {
            if (CommandLine.printHelpIfRequested(parseResult)) {
                return 0;
            }
            EalOptions eal = app.eal();
            try {
                eal.validate(cl);
                List<String> rest = eal.appArgs();
                if (appCl != null) {
                    try {
                        appCl.parseArgs(rest.toArray(String[]::new));
                    } catch (ParameterException e) {
                        throw new ParameterException(cl, "after --: " + e.getMessage(), e);
                    }
                } else if (!rest.isEmpty()) {
                    throw new ParameterException(cl, "this app takes no options after --, got " + rest);
                }
            } catch (ParameterException e) {
                // errors found after parsing are reported like parse errors: message, usage, exit code 2
                try {
                    return cl.getParameterExceptionHandler().handleParseException(e,
                            parseResult.originalArgs().toArray(String[]::new));
                } catch (Exception handlerFailure) {
                    throw new CommandLine.ExecutionException(cl, e.getMessage(), handlerFailure);
                }
            }
            eal.applyLogLevel();
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cl;
    }

    /** Parses {@code args} and runs the app; returns its exit code (2 for bad options, with the reason). */
    public static int run(EalApplication app, String... args) {
        return commandLine(app).execute(args);
    }

    /** As {@link #run}, with help and errors written to the given writers (for tests). */
    public static int run(EalApplication app, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine(app);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    /** As {@link #run}, with help and errors written to the given streams (apps that print to their own out/err). */
    public static int run(EalApplication app, PrintStream out, PrintStream err, String... args) {
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        try {
            return run(app, o, e, args);
        } finally {
            o.flush();
            e.flush();
        }
    }
}
