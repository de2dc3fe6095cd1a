package io.jnic.multiproc;

import io.jnic.memory.IovaMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The runtime options every app takes, after DPDK's EAL: a picocli mixin ({@code @Mixin EalOptions eal}).
 * Everything after {@code --} is the app's own ({@link #appArgs()}); {@link Eal#run} parses those into
 * the app's options object and lists both in {@code --help}.
 */
@Command(synopsisHeading = "%nUsage: ", optionListHeading = "%nRuntime (EAL) options:%n")
public final class EalOptions {
    private static final Pattern PCI = Pattern.compile(
            "(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\\.([0-7])(,.*)?");
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");
    private static final Pattern VDEV = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}(,.*)?");
    private static final System.Logger LOG = System.getLogger(EalOptions.class.getName());
    /** Largest -m: 1 TiB. */
    public static final int MAX_MEMORY_MB = 1 << 20;

    @Option(names = "--proc-type", paramLabel = "primary|secondary|auto", defaultValue = "primary",
            converter = ProcTypeConverter.class,
            description = "primary creates the shared state, secondary attaches to it, auto picks (default: ${DEFAULT-VALUE})")
    private ProcType procType = ProcType.PRIMARY;

    @Option(names = "--file-prefix", paramLabel = "PREFIX", defaultValue = "jnic", converter = PrefixConverter.class,
            description = "names this process group's runtime dir and hugepage files (default: ${DEFAULT-VALUE})")
    private String filePrefix = "jnic";

    @Option(names = {"-l", "--lcores"}, paramLabel = "LIST", converter = LcoreConverter.class,
            description = "lcores to claim and pin threads to, ids and ranges such as 0-3,5 (lcore id = cpu id)")
    private LcoreSet lcores = LcoreSet.EMPTY;

    @Option(names = "-c", paramLabel = "COREMASK", converter = CoremaskConverter.class,
            description = "lcores as a hexadecimal bit mask, as DPDK's -c: 0x5 is -l 0,2 (use -l or -c, not both)")
    private LcoreSet coremask;

    @Option(names = "-n", paramLabel = "CHANNELS", converter = ChannelsConverter.class,
            description = "memory channels (DPDK's -n): accepted for DPDK command lines and ignored")
    private Integer memoryChannels;

    @Option(names = "-m", paramLabel = "MB", converter = MegabytesConverter.class,
            description = "memory to reserve at start, in megabytes")
    private Integer memoryMb;

    @Option(names = "--no-huge", description = "use ordinary 4 KiB pages instead of hugepages (no physical addresses)")
    private boolean noHuge;

    @Option(names = "--huge-dir", paramLabel = "DIR",
            description = "hugetlbfs mount for the hugepage files (default: /dev/hugepages)")
    private Path hugeDir;

    @Option(names = "--iova-mode", paramLabel = "pa|va", converter = IovaModeConverter.class,
            description = "pa: physical addresses (UIO), va: assigned IOVAs (VFIO); default: pa when a device to probe "
                    + "is bound to uio_pci_generic or igb_uio, else va")
    private IovaMode iovaMode;

    @Option(names = {"-a", "--allow"}, paramLabel = "PCI[,ARGS]", converter = PciConverter.class,
            description = "use only this PCI device (repeatable), e.g. 0000:03:00.0")
    private List<String> allow = new ArrayList<>();

    @Option(names = {"-b", "--block"}, paramLabel = "PCI", converter = PciConverter.class,
            description = "do not use this PCI device (repeatable)")
    private List<String> block = new ArrayList<>();

    @Option(names = "--vdev", paramLabel = "NAME[,ARGS]", converter = VdevConverter.class,
            description = "add a virtual device (repeatable), e.g. net_null0")
    private List<String> vdevs = new ArrayList<>();

    @Option(names = "--no-telemetry", description = "do not serve telemetry (dpdk-telemetry.py) for this process")
    private boolean noTelemetry;

    @Option(names = "--log-level", paramLabel = "LEVEL", converter = LogLevelConverter.class,
            description = "off, error, warning, info, debug, trace or all (default: info)")
    private System.Logger.Level logLevel;

    @Parameters(paramLabel = "-- APP_OPTIONS", arity = "0..*", description = "the application's own options, after --")
    private List<String> appArgs = new ArrayList<>();

    public ProcType procType() {
        return procType;
    }

    public String filePrefix() {
        return filePrefix;
    }

    /** The lcores of -l, or of -c when that was given instead. */
    public LcoreSet lcores() {
        return coremask != null ? coremask : lcores;
    }

    /** -m, when given. */
    public OptionalInt memoryMb() {
        return memoryMb == null ? OptionalInt.empty() : OptionalInt.of(memoryMb);
    }

    public boolean noHuge() {
        return noHuge;
    }

    /**
     * --iova-mode, else PHYSICAL when a device this process would probe is bound to a UIO driver (with hugepages:
     * 4 KB pages have no stable physical address, and such a device is then refused at probe with the reason),
     * else empty.
     */
    public Optional<IovaMode> iovaMode() {
        if (iovaMode == null && noHuge) {
            return Optional.empty();
        }
        return IovaChoice.choose(Optional.ofNullable(iovaMode), allow(), block());
    }

    /** --no-telemetry: no telemetry socket for this process. */
    public boolean noTelemetry() {
        return noTelemetry;
    }

    public Optional<Path> hugeDir() {
        return Optional.ofNullable(hugeDir);
    }

    /** -a addresses, normalized to {@code dddd:bb:dd.f[,args]} in lower case. */
    public List<String> allow() {
        return List.copyOf(allow);
    }

    public List<String> block() {
        return List.copyOf(block);
    }

    public List<String> vdevs() {
        return List.copyOf(vdevs);
    }

    public Optional<System.Logger.Level> logLevel() {
        return Optional.ofNullable(logLevel);
    }

    /** What came after {@code --}. */
    public List<String> appArgs() {
        return List.copyOf(appArgs);
    }

    /**
     * Checks the rules between options that picocli cannot express.
     *
     * @throws ParameterException saying which options clash and what to do
     */
    public void validate(CommandLine commandLine) {
        if (coremask != null && !lcores.isEmpty()) {
            throw new ParameterException(commandLine, "options -c and -l/--lcores are mutually exclusive: both name the "
                    + "lcores, -c as a hexadecimal mask (0x5) and -l as a list (0,2); give one");
        }
        if (!allow.isEmpty() && !block.isEmpty()) {
            throw new ParameterException(commandLine, "options -a/--allow and -b/--block are mutually exclusive: "
                    + "use -a to name the only devices to use, or -b to exclude some");
        }
        if (noHuge && hugeDir != null) {
            throw new ParameterException(commandLine,
                    "options --no-huge and --huge-dir are mutually exclusive: --no-huge uses no hugetlbfs mount");
        }
    }

    /**
     * Sets the JDK logging root level (System.Logger's default backend) from --log-level, if given, then logs
     * (at DEBUG) the options accepted for DPDK compatibility that change nothing.
     */
    public void applyLogLevel() {
        if (logLevel != null) {
            Level level = julLevel(logLevel);
            Logger root = LogManager.getLogManager().getLogger("");
            root.setLevel(level);
            for (java.util.logging.Handler h : root.getHandlers()) {
                h.setLevel(level);
            }
        }
        if (memoryChannels != null) {
            LOG.log(System.Logger.Level.DEBUG, "-n {0} ignored: memory channels tune DPDK''s mempool object spreading, "
                    + "jnic has nothing to tune with them", memoryChannels);
        }
    }

    static Level julLevel(System.Logger.Level l) {
        return switch (l) {
            case ALL -> Level.ALL;
            case TRACE -> Level.FINER;
            case DEBUG -> Level.FINE;
            case INFO -> Level.INFO;
            case WARNING -> Level.WARNING;
            case ERROR -> Level.SEVERE;
            case OFF -> Level.OFF;
        };
    }

    /**
     * Parses runtime options alone (for tests and embedding): {@code --} and what follows land in
     * {@link #appArgs()}.
     *
     * @throws ParameterException with picocli's message on bad input
     */
    public static EalOptions parse(String... args) {
        Holder h = new Holder();
        CommandLine cl = new CommandLine(h);
        cl.parseArgs(args);
        h.eal.validate(cl);
        return h.eal;
    }

    @Command(name = "jnic-app")
    private static final class Holder {
        @CommandLine.Mixin
        EalOptions eal = new EalOptions();
        @CommandLine.Spec
        CommandSpec spec;
    }

    static final class IovaModeConverter implements ITypeConverter<IovaMode> {
        @Override
        public IovaMode convert(String v) {
            return switch (v) {
                case "pa" -> IovaMode.PHYSICAL;
                case "va" -> IovaMode.ASSIGNED;
                default -> throw new TypeConversionException("'" + v + "' is not an IOVA mode: pa (physical addresses, for "
                        + "UIO) or va (IOVAs the IOMMU maps, for VFIO)");
            };
        }
    }

    static final class ProcTypeConverter implements ITypeConverter<ProcType> {
        @Override
        public ProcType convert(String value) {
            try {
                return ProcType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class PrefixConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!PREFIX.matcher(value).matches()) {
                throw new TypeConversionException("invalid file prefix '" + value + "': use 1 to 32 letters, digits, "
                        + "'.', '_' or '-', starting with a letter or digit (it names a directory)");
            }
            return value;
        }
    }

    static final class LcoreConverter implements ITypeConverter<LcoreSet> {
        @Override
        public LcoreSet convert(String value) {
            try {
                return LcoreSet.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** DPDK's -c: a hexadecimal mask, bit i set = lcore i, "0x" optional. */
    static final class CoremaskConverter implements ITypeConverter<LcoreSet> {
        @Override
        public LcoreSet convert(String value) {
            String hex = value.strip();
            if (hex.startsWith("0x") || hex.startsWith("0X")) {
                hex = hex.substring(2);
            }
            if (hex.isEmpty() || !hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                throw new TypeConversionException("invalid core mask '" + value + "': -c takes a hexadecimal bit mask "
                        + "such as 0x5 (lcores 0 and 2); -l takes a list such as 0,2");
            }
            java.util.BitSet bits = new java.util.BitSet();
            for (int i = 0; i < hex.length(); i++) {
                int nibble = Character.digit(hex.charAt(hex.length() - 1 - i), 16);
                for (int b = 0; b < 4; b++) {
                    if ((nibble & (1 << b)) != 0) {
                        int id = 4 * i + b;
                        if (id >= LcoreSet.MAX_LCORES) {
                            throw new TypeConversionException("invalid core mask '" + value + "': it sets lcore " + id
                                    + ", lcore ids run from 0 to " + (LcoreSet.MAX_LCORES - 1));
                        }
                        bits.set(id);
                    }
                }
            }
            if (bits.isEmpty()) {
                throw new TypeConversionException("invalid core mask '" + value + "': it sets no lcore (0x1 is lcore 0)");
            }
            return LcoreSet.fromBitSet(bits);
        }
    }

    /** DPDK's -n: a positive number of memory channels. */
    static final class ChannelsConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int n = Integer.parseInt(value.strip());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new TypeConversionException("invalid memory channel count '" + value + "': -n takes a positive number "
                    + "(DPDK's memory channels; jnic accepts and ignores it)");
        }
    }

    static final class MegabytesConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int mb = Integer.parseInt(value.strip());
                if (mb >= 1 && mb <= MAX_MEMORY_MB) {
                    return mb;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new TypeConversionException("invalid memory size '" + value + "': -m takes megabytes, 1 to " + MAX_MEMORY_MB);
        }
    }

    static final class PciConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            Matcher m = PCI.matcher(value.strip());
            if (m.matches() && Integer.parseInt(m.group(3), 16) <= 0x1f) {
                int domain = m.group(1) == null ? 0 : Integer.parseInt(m.group(1), 16);
                return String.format(Locale.ROOT, "%04x:%02x:%02x.%s%s", domain, Integer.parseInt(m.group(2), 16),
                        Integer.parseInt(m.group(3), 16), m.group(4), m.group(5) == null ? "" : m.group(5));
            }
            throw new TypeConversionException("invalid PCI address '" + value + "': expected [DOMAIN:]BUS:DEVICE.FUNCTION"
                    + "[,ARGS] in hex such as 0000:03:00.0 (device 00-1f, function 0-7)");
        }
    }

    static final class VdevConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!VDEV.matcher(value).matches()) {
                throw new TypeConversionException("invalid virtual device '" + value
                        + "': expected NAME[,KEY=VALUE...] with a name of letters, digits and '_', such as net_null0");
            }
            return value;
        }
    }

    static final class LogLevelConverter implements ITypeConverter<System.Logger.Level> {
        @Override
        public System.Logger.Level convert(String value) {
            String v = value.strip().toUpperCase(Locale.ROOT);
            if (v.equals("WARN")) {
                v = "WARNING";
            }
            for (System.Logger.Level l : System.Logger.Level.values()) {
                if (l.name().equals(v)) {
                    return l;
                }
            }
            throw new TypeConversionException("invalid log level '" + value
                    + "': expected off, error, warning, info, debug, trace or all");
        }
    }
}
