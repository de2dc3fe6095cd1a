package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

class EalOptionsTest {
    @Command(name = "demo", mixinStandardHelpOptions = true, description = "a demo app")
    static final class Demo implements EalApplication {
        @Mixin
        EalOptions eal;
        final Own own = new Own();
        boolean ran;

        @Override
        public EalOptions eal() {
            return eal;
        }

        @Override
        public Object appOptions() {
            return own;
        }

        @Override
        public Integer call() {
            ran = true;
            return 0;
        }
    }

    @Command(name = "demo-app")
    static final class Own {
        @Option(names = "--num-procs", description = "how many processes")
        int numProcs = 1;
    }

    private static String error(String... args) {
        return assertThrows(ParameterException.class, () -> EalOptions.parse(args)).getMessage();
    }

    @Test
    void defaultsAreAPrimaryWithPrefixJnicAndNoLcores() {
        EalOptions o = EalOptions.parse();
        assertEquals(ProcType.PRIMARY, o.procType());
        assertEquals("jnic", o.filePrefix());
        assertTrue(o.lcores().isEmpty());
        assertTrue(o.memoryMb().isEmpty());
        assertFalse(o.noHuge());
        assertTrue(o.hugeDir().isEmpty());
        assertTrue(o.logLevel().isEmpty());
    }

    @Test
    void everyOptionIsParsed() {
        EalOptions o = EalOptions.parse("--proc-type", "AUTO", "--file-prefix", "test_1", "-l", "0-3,5", "-m", "512",
                "--huge-dir", "/dev/hugepages", "-a", "3:00.1", "--allow", "0000:04:1f.7,rxq=2", "--vdev", "net_null0",
                "--vdev", "net_null1,size=64", "--log-level", "debug", "--", "--num-procs", "2");
        assertEquals(ProcType.AUTO, o.procType());
        assertEquals("test_1", o.filePrefix());
        assertEquals(LcoreSet.of(0, 1, 2, 3, 5), o.lcores());
        assertEquals("0-3,5", o.lcores().toString());
        assertEquals(512, o.memoryMb().getAsInt());
        assertEquals(Path.of("/dev/hugepages"), o.hugeDir().orElseThrow());
        assertEquals(List.of("0000:03:00.1", "0000:04:1f.7,rxq=2"), o.allow());
        assertEquals(List.of("net_null0", "net_null1,size=64"), o.vdevs());
        assertEquals(System.Logger.Level.DEBUG, o.logLevel().orElseThrow());
        assertEquals(List.of("--num-procs", "2"), o.appArgs());
        assertEquals(List.of("0000:0a:00.0"), EalOptions.parse("-b", "0A:00.0", "-b", "0a:00.0").block().subList(0, 1));
    }

    @Test
    void dpdkCoremaskAndChannelsAreAccepted() {
        // a DPDK command line: -c is a hex mask of lcores, -n (memory channels) changes nothing
        EalOptions o = EalOptions.parse("-c", "0x15", "-n", "4", "--", "-p", "0x3");
        assertEquals(LcoreSet.of(0, 2, 4), o.lcores());
        assertEquals(List.of("-p", "0x3"), o.appArgs());
        assertEquals(LcoreSet.of(0, 1, 2, 3, 4, 5, 6, 7, 124), EalOptions.parse("-c", "1" + "0".repeat(29) + "ff").lcores());
        assertEquals(LcoreSet.of(1, 3), EalOptions.parse("-c", "A").lcores());
        assertTrue(EalOptions.parse("-n", "2").lcores().isEmpty());
        assertTrue(error("-c", "0x0").contains("it sets no lcore"), error("-c", "0x0"));
        assertTrue(error("-c", "0-3").contains("invalid core mask '0-3': -c takes a hexadecimal bit mask"));
        assertTrue(error("-c", "0x" + "1" + "0".repeat(32)).contains("it sets lcore 128, lcore ids run from 0 to 127"));
        assertTrue(error("-n", "0").contains("-n takes a positive number"));
        assertTrue(error("-c", "0x3", "-l", "0-1").contains("options -c and -l/--lcores are mutually exclusive"));
    }

    @Test
    void badValuesSayWhatIsAllowed() {
        assertEquals("Invalid value for option '--proc-type': unknown process type 'master': expected primary, "
                + "secondary or auto", error("--proc-type", "master"));
        assertTrue(error("-l", "3-1").contains("invalid lcore list '3-1' (range 3-1 runs backwards): expected "
                + "comma-separated ids and ranges such as 0-3,5, ids 0 to 127"), error("-l", "3-1"));
        assertTrue(error("-l", "0,128").contains("lcore 128 is out of range"));
        assertTrue(error("-l", "1,,2").contains("empty item"));
        assertTrue(error("-l", "x").contains("'x' is not an lcore id"));
        assertTrue(error("-m", "0").contains("-m takes megabytes, 1 to 1048576"));
        assertTrue(error("-m", "lots").contains("invalid memory size 'lots'"));
        assertTrue(error("-a", "00:20.0").contains("invalid PCI address '00:20.0': expected [DOMAIN:]BUS:DEVICE.FUNCTION"));
        assertTrue(error("-b", "eth0").contains("invalid PCI address 'eth0'"));
        assertTrue(error("--file-prefix", "../x").contains("invalid file prefix '../x'"));
        assertTrue(error("--vdev", "0bad").contains("such as net_null0"));
        assertTrue(error("--log-level", "loud").contains("expected off, error, warning, info, debug, trace or all"));
        assertEquals("options -a/--allow and -b/--block are mutually exclusive: use -a to name the only devices to "
                + "use, or -b to exclude some", error("-a", "01:00.0", "-b", "02:00.0"));
        assertTrue(error("--no-huge", "--huge-dir", "/mnt").contains("--no-huge and --huge-dir are mutually exclusive"));
    }

    @Test
    void helpListsEveryRuntimeOptionAndTheAppsOwn() {
        Demo demo = new Demo();
        StringWriter out = new StringWriter();
        assertEquals(0, Eal.run(demo, new PrintWriter(out), new PrintWriter(new StringWriter()), "--help"));
        String help = out.toString();
        for (String name : List.of("--proc-type", "--file-prefix", "-l, --lcores", "-m=MB", "--no-huge", "--huge-dir",
                "-c=COREMASK", "-n=CHANNELS", "-a, --allow", "-b, --block", "--vdev", "--log-level", "Application options (after --):", "--num-procs")) {
            assertTrue(help.contains(name), name + " missing from:\n" + help);
        }
        assertFalse(demo.ran);
    }

    @Test
    void appOptionsAfterTheSeparatorReachTheApp() {
        Demo demo = new Demo();
        StringWriter err = new StringWriter();
        assertEquals(0, Eal.run(demo, new PrintWriter(new StringWriter()), new PrintWriter(err),
                "--proc-type", "secondary", "--", "--num-procs", "3"));
        assertTrue(demo.ran, err.toString());
        assertEquals(3, demo.own.numProcs);
        assertEquals(ProcType.SECONDARY, demo.eal.procType());

        Demo bad = new Demo();
        err = new StringWriter();
        int code = Eal.run(bad, new PrintWriter(new StringWriter()), new PrintWriter(err), "--", "--nope");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("after --: Unknown option: '--nope'"), err.toString());
        assertFalse(bad.ran);

        err = new StringWriter();
        assertEquals(2, Eal.run(new Demo(), new PrintWriter(new StringWriter()), new PrintWriter(err), "-a", "1:0.0", "-b", "2:0.0"));
        assertTrue(err.toString().contains("mutually exclusive"), err.toString());
    }

    @Test
    void logLevelSetsTheJdkLoggingRootLevel() {
        var root = LogManager.getLogManager().getLogger("");
        Level before = root.getLevel();
        try {
            EalOptions.parse("--log-level", "warning").applyLogLevel();
            assertEquals(Level.WARNING, root.getLevel());
            assertFalse(System.getLogger("io.jnic.test").isLoggable(System.Logger.Level.INFO));
            EalOptions.parse("--log-level", "DEBUG").applyLogLevel();
            assertTrue(System.getLogger("io.jnic.test").isLoggable(System.Logger.Level.DEBUG));
        } finally {
            root.setLevel(before);
        }
    }

    @Test
    void lcoreSetsPrintAsRanges() {
        assertEquals("0-2,4,6-7", LcoreSet.parse(" 6-7 ,0-2,4,1").toString());
        assertEquals(6, LcoreSet.parse("0-2,4,6-7").size());
        assertEquals(0, LcoreSet.parse("0-2,4,6-7").first());
        assertEquals("lcore 200 is out of range: ids run from 0 to 127",
                assertThrows(IllegalArgumentException.class, () -> LcoreSet.of(200)).getMessage());
        assertTrue(new CommandLine(new Demo()).getCommandSpec().mixins().containsKey("eal"));
    }
}
