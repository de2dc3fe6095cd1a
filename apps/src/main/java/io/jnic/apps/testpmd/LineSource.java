package io.jnic.apps.testpmd;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * Where testpmd's command lines come from. On a terminal (stdin and stdout both ttys): JLine's line reader, with
 * editing, history (up/down, Ctrl-R) and tab completion over {@link Commands#GRAMMAR}; a dumb terminal
 * ({@code TERM=dumb}) still gets history and completion from JLine's dumb mode. Otherwise (a pipe, a file, a
 * test): plain lines, each echoed after the prompt as DPDK's cmdline does, so that a transcript reads like a
 * session. Messages that arrive while the prompt waits ({@link #notice}) go above it.
 */
final class LineSource implements AutoCloseable {
    private final Terminal terminal;
    private final LineReader reader;
    private final BufferedReader plain;
    private final PrintStream out;
    private volatile boolean waiting;
    private volatile String prompt = "";

    private LineSource(Terminal terminal, LineReader reader, BufferedReader plain, PrintStream out) {
        this.terminal = terminal;
        this.reader = reader;
        this.plain = plain;
        this.out = out;
    }

    static LineSource open(InputStream in, PrintStream out, Commands commands) throws IOException {
        java.io.Console c = System.console();
        if (in != System.in || c == null || !c.isTerminal()) {
            return new LineSource(null, null, new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), out);
        }
        Terminal t = TerminalBuilder.builder().system(true).dumb(true).name("testpmd").build();
        LineReader r = LineReaderBuilder.builder().terminal(t).appName("testpmd")
                .completer((lr, line, candidates) -> {
                    List<String> words = line.words().subList(0, line.wordIndex());
                    for (String s : commands.candidates(words)) {
                        candidates.add(new Candidate(s));
                    }
                })
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
        return new LineSource(t, r, null, out);
    }

    /** The next line, or null at the end of input (Ctrl-D, a closed pipe) or on Ctrl-C. */
    String readLine(String p) throws IOException {
        prompt = p;
        try {
            if (reader != null) {
                waiting = true;
                try {
                    return reader.readLine(p);
                } catch (EndOfFileException | UserInterruptException e) {
                    return null;
                }
            }
            synchronized (out) {
                out.print(p);
                out.flush();
                waiting = true;
            }
            String l = plain.readLine();
            synchronized (out) {
                waiting = false;
                out.println(l == null ? "" : l);
            }
            return l;
        } finally {
            waiting = false;
        }
    }

    /** Prints {@code msg} for the user: above the prompt while one waits for a command, else as a line. */
    void notice(String msg) {
        if (reader != null) {
            if (waiting) {
                reader.printAbove(msg);
            } else {
                out.println(msg);
            }
            return;
        }
        synchronized (out) {
            if (waiting) {
                out.println();
                out.println(msg);
                out.print(prompt);
                out.flush();
            } else {
                out.println(msg);
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (terminal != null) {
            terminal.close();
        }
    }
}
