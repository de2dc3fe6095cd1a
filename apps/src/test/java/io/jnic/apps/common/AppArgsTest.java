package io.jnic.apps.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.multiproc.EalOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where AppArgs puts an option both the EAL and the app know: DPDK's -n (memory channels) vs mp-client's -n. */
class AppArgsTest {
    @Command(name = "eal")
    static final class Eal {
        @Mixin
        EalOptions eal;
    }

    @Command(name = "app")
    static final class App {
        @Option(names = "-n")
        int id;

        @Option(names = "--burst")
        int burst;
    }

    private static List<String> prepare(String... args) {
        PrintStream err = new PrintStream(new ByteArrayOutputStream());
        // secondary: no hugepage check, so the result depends on the arguments alone
        return List.of(AppArgs.prepare("app", new Eal(), new App(), List.of(), args, err));
    }

    @Test
    void withoutSeparatorASharedOptionIsTheApps() {
        assertEquals(List.of("--proc-type", "secondary", "--", "-n", "0", "--burst", "8"),
                prepare("--proc-type", "secondary", "-n", "0", "--burst", "8"));
    }

    @Test
    void beforeASeparatorASharedOptionIsTheEalsAsInDpdk() {
        assertEquals(List.of("--proc-type", "secondary", "-l", "0-1", "-n", "4", "--", "--burst", "8", "-n", "2"),
                prepare("--proc-type", "secondary", "-l", "0-1", "-n", "4", "--burst", "8", "--", "-n", "2"));
    }
}
