package io.jnic.apps.testpmd;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * Where testpmd's command lines come from: JLine's line reader, with history (up/down, Ctrl-R) and tab completion
 * over {@link Commands#GRAMMAR} on a terminal; on a pipe or a dumb terminal JLine reads plain lines, and the
 * command is echoed after the prompt as DPDK's cmdline does, so a transcript reads like a session.
 */
final class LineSource implements AutoCloseable {
    private final Terminal terminal;
    private final LineReader reader;
    private final PrintStream out;
    private final boolean echo;

    private LineSource(Terminal terminal, LineReader reader, PrintStream out, boolean echo) {
        this.terminal = terminal;
        this.reader = reader;
        this.out = out;
        this.echo = echo;
    }

    static LineSource open(InputStream in, PrintStream out, Commands commands) throws IOException {
        TerminalBuilder b = TerminalBuilder.builder().dumb(true).name("testpmd");
        if (in == System.in) {
            b.system(true);
        } else {
            b.system(false).streams(in, out).type(Terminal.TYPE_DUMB);
        }
        Terminal t = b.build();
        LineReader r = LineReaderBuilder.builder().terminal(t).appName("testpmd")
                .completer((lr, line, candidates) -> {
                    List<String> words = line.words().subList(0, line.wordIndex());
                    for (String c : commands.candidates(words)) {
                        candidates.add(new Candidate(c));
                    }
                })
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
        boolean dumb = t.getType().startsWith(Terminal.TYPE_DUMB);
        return new LineSource(t, r, out, dumb);
    }

    /** The next line, or null at the end of input (Ctrl-D, a closed pipe) or on Ctrl-C. */
    String readLine(String prompt) {
        try {
            if (echo) {
                out.print(prompt);
                out.flush();
                String l = reader.readLine("");
                out.println(l);
                return l;
            }
            return reader.readLine(prompt);
        } catch (EndOfFileException | UserInterruptException e) {
            if (echo) {
                out.println();
            }
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        terminal.close();
    }
}
