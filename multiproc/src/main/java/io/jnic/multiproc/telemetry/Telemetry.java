package io.jnic.multiproc.telemetry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The telemetry commands of one process (DPDK's rte_telemetry_register_cmd): a registry of command -> handler,
 * and the dispatch of one request ({@code cmd} or {@code cmd,params}) to its JSON reply. The server
 * ({@link TelemetryServer}) calls {@link #handle} on its own thread; handlers must not wait long (they stall other
 * telemetry clients, never the data path) and must not change what they report on.
 *
 * <p>Built in, as in DPDK: {@code /} (the commands), {@code /info} (version, pid, max_output_len) and
 * {@code /help,<command>}. An unknown command, a command too long, or a handler that rejects its parameters
 * ({@link IllegalArgumentException}) or fails is answered {@code {"<cmd>":null}}, as DPDK does.
 */
public final class Telemetry {
    /** Largest reply, in bytes (DPDK's MAX_OUTPUT_LEN); told to clients in the first message. */
    public static final int MAX_OUTPUT_LEN = 16 * 1024;
    /** Longest command name (DPDK's MAX_CMD_LEN, terminator included). */
    public static final int MAX_CMD_LEN = 56;
    /** Longest help text (DPDK's MAX_HELP_LEN, terminator included). */
    public static final int MAX_HELP_LEN = 64;
    /** Reported as "version" by {@code /info} and in the first message. */
    public static final String VERSION = "jnic " + versionOf();

    private static final System.Logger LOG = System.getLogger(Telemetry.class.getName());

    /** Answers one command: the value to send (see {@link TelemetryJson} for the types), or null. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param cmd    the command as registered
         * @param params what followed the first comma, or null when nothing did
         * @throws IllegalArgumentException when the parameters are wrong (the reply is null)
         */
        Object handle(String cmd, String params);
    }

    private record Entry(Handler handler, String help) {
    }

    private final Map<String, Entry> commands = new ConcurrentSkipListMap<>(); // sorted, as DPDK keeps its list
    private final List<javax.management.ObjectName> mbeans = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Runnable> pending = new ArrayList<>();
    private final Object publishLock = new Object();
    private boolean publish;
    private boolean closed;
    private final int pid;

    public Telemetry(int pid) {
        this.pid = pid;
        register("/", (c, p) -> List.copyOf(commands.keySet()), "Returns list of available commands, Takes no parameters");
        register("/info", (c, p) -> info(), "Returns DPDK Telemetry information. Takes no parameters");
        register("/help", (c, p) -> help(p), "Returns help text for a command. Parameters: string command");
    }

    /**
     * Adds {@code cmd} (starting with '/', shorter than {@value #MAX_CMD_LEN}; help shorter than
     * {@value #MAX_HELP_LEN}), replacing a handler registered before under that name.
     */
    public void register(String cmd, Handler handler, String help) {
        if (cmd == null || !cmd.startsWith("/") || cmd.length() >= MAX_CMD_LEN || cmd.contains(",")) {
            throw new IllegalArgumentException("telemetry command '" + cmd + "' must start with '/', hold no ',' and be "
                    + "shorter than " + MAX_CMD_LEN + " characters");
        }
        if (help == null || help.length() >= MAX_HELP_LEN) {
            throw new IllegalArgumentException("help of telemetry command " + cmd + " must be shorter than "
                    + MAX_HELP_LEN + " characters: '" + help + "'");
        }
        commands.put(cmd, new Entry(java.util.Objects.requireNonNull(handler, "handler"), help));
    }

    /** Removes {@code cmd} (when its owner closes). */
    public void unregister(String cmd) {
        commands.remove(cmd);
    }

    /** The registered commands, sorted. */
    public List<String> commands() {
        return new ArrayList<>(commands.keySet());
    }

    /** The first message a client gets: {@code {"version":...,"pid":...,"max_output_len":...}}. */
    public String greeting() {
        Object v = info();
        String json = TelemetryJson.reply("x", v, MAX_OUTPUT_LEN);
        return json.substring("{\"x\":".length(), json.length() - 1);
    }

    /** The JSON reply to one request ({@code cmd} or {@code cmd,params}), at most {@value #MAX_OUTPUT_LEN} bytes. */
    public String handle(String request) {
        int comma = request.indexOf(',');
        String cmd = comma < 0 ? request : request.substring(0, comma);
        String params = comma < 0 || comma == request.length() - 1 ? null : request.substring(comma + 1);
        if (cmd.isEmpty()) {
            cmd = "none"; // what DPDK names a request without a command
        }
        String shown = cmd.length() >= MAX_CMD_LEN ? cmd.substring(0, MAX_CMD_LEN) : cmd;
        Entry e = cmd.length() < MAX_CMD_LEN ? commands.get(cmd) : null;
        Object value = null;
        if (e != null) {
            try {
                value = e.handler().handle(cmd, params);
            } catch (IllegalArgumentException bad) {
                LOG.log(System.Logger.Level.DEBUG, "telemetry {0}: {1}", cmd, bad.getMessage());
            } catch (RuntimeException failed) {
                LOG.log(System.Logger.Level.WARNING, "telemetry command " + cmd + " failed", failed);
            }
        }
        return TelemetryJson.reply(shown, value, MAX_OUTPUT_LEN);
    }

    private Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("pid", pid);
        m.put("max_output_len", MAX_OUTPUT_LEN);
        return m;
    }

    private Object help(String params) {
        if (params == null) {
            throw new IllegalArgumentException("/help needs a command: /help,/ethdev/stats");
        }
        Entry e = commands.get(params);
        if (e == null) {
            throw new IllegalArgumentException("no command " + params);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(params, e.help());
        return m;
    }

    private static String versionOf() {
        String v = Telemetry.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    // ---- JMX

    /**
     * Publishes what {@code source} returns (a telemetry dictionary) as the MBean {@code io.jnic:type=<type>,
     * prefix=<prefix>,<key>} on the platform MBean server, until {@link #close}; from {@link #publishMBeans} on.
     */
    public void registerMBean(String prefix, String type, String key, String description,
            java.util.function.Supplier<Map<String, Object>> source) {
        String name = "io.jnic:type=" + type + ",prefix=" + javax.management.ObjectName.quote(prefix)
                + (key == null || key.isEmpty() ? "" : "," + key);
        synchronized (mbeans) {
            if (closed) {
                return;
            }
            if (!publish) {
                pending.add(() -> register(name, description, source)); // published later by the server thread
                return;
            }
        }
        register(name, description, source);
    }

    private void register(String name, String description, java.util.function.Supplier<Map<String, Object>> source) {
        javax.management.ObjectName on = TelemetryMBean.register(name, description, source);
        if (on != null) {
            mbeans.add(on);
        }
    }

    /**
     * Registers the MBeans asked for so far, and any later ones at once. The server thread calls it a moment
     * after start, so that starting the platform MBean server (about 200 ms of CPU) delays no process's start
     * and short-lived tools never pay it.
     */
    public void publishMBeans() {
        synchronized (publishLock) { // a second caller returns when the first has registered everything
            for (;;) {
                List<Runnable> todo;
                synchronized (mbeans) {
                    if (closed || publish) {
                        return;
                    }
                    if (pending.isEmpty()) {
                        publish = true;
                        return;
                    }
                    todo = new ArrayList<>(pending);
                    pending.clear();
                }
                todo.forEach(Runnable::run);
            }
        }
    }

    /** Removes this process's MBeans (the runtime closes). */
    public void close() {
        synchronized (mbeans) {
            closed = true;
            pending.clear();
        }
        for (javax.management.ObjectName on : mbeans) {
            TelemetryMBean.unregister(on);
        }
        mbeans.clear();
    }

    // ---- parameter helpers for handlers

    /** A port or queue number parameter (decimal, as DPDK's strtoul with base 0 also takes hex 0x..). */
    public static int intParam(String cmd, String params) {
        if (params == null || params.isBlank()) {
            throw new IllegalArgumentException(cmd + " needs a number: " + cmd + ",0");
        }
        String s = params.strip();
        int comma = s.indexOf(',');
        if (comma >= 0) {
            s = s.substring(0, comma);
        }
        try {
            long v = s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
            if (v < 0 || v >= 0xFFFF) {
                throw new IllegalArgumentException(cmd + ": " + s + " is out of range");
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(cmd + ": '" + s + "' is not a number");
        }
    }
}
