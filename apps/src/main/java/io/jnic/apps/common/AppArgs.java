package io.jnic.apps.common;

import io.jnic.memory.Hugepages;
import io.jnic.memory.PageSize;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Makes the simplest command lines of the multi-process apps work. */
public final class AppArgs {
    /** Free hugepage memory below which a primary on simulated ports falls back to 4 KB pages. */
    static final long SIMULATED_PORTS_MEMORY = 256L << 20;

    private AppArgs() {
    }

    /**
     * {@code args} with {@code --proc-type secondary} in front unless the EAL part (before {@code --}) chooses a
     * process type: for the apps that join a running group (mp-client, pdump, proc-info).
     */
    public static String[] secondaryByDefault(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        int dashes = all.indexOf("--");
        List<String> ealPart = dashes < 0 ? all : all.subList(0, dashes);
        if (ealPart.stream().noneMatch(s -> s.equals("--proc-type") || s.startsWith("--proc-type="))) {
            all.addAll(0, List.of("--proc-type", "secondary"));
        }
        return all.toArray(String[]::new);
    }

    /**
     * App options given before {@code --} are moved after it, and a primary that will run simulated ports (no -a,
     * --vdev, {@code deviceOptions} or device bound to a userspace driver) without enough free 2 MB hugepages gets
     * {@code --no-huge}, with a warning that says how to reserve them. An option both the EAL and the app know
     * (mp-server's and mp-client's {@code -n}, DPDK's memory channels) is the app's in a command line without
     * {@code --} ({@code mp-client -n 0}) and the EAL's before a {@code --}, as in DPDK
     * ({@code mp_server -l 0-1 -n 4 -- -n 2}).
     *
     * @param app           the app's name, for the warning
     * @param ealCommand    the app's EAL command object (a picocli command with the EAL mixin)
     * @param appOptions    the app's options object (after {@code --})
     * @param deviceOptions app options that name devices (e.g. "--vfio-user")
     */
    public static String[] prepare(String app, Object ealCommand, Object appOptions, List<String> deviceOptions,
            String[] args, PrintStream err) {
        CommandSpec appSpec = new CommandLine(appOptions).getCommandSpec();
        CommandSpec ealSpec = new CommandLine(ealCommand).getCommandSpec();
        List<String> ealPart = new ArrayList<>();
        List<String> appPart = new ArrayList<>();
        boolean sawDashes = false;
        boolean hasDashes = List.of(args).contains("--");
        for (int i = 0; i < args.length; i++) {
            String t = args[i];
            if (sawDashes) {
                appPart.add(t);
                continue;
            }
            if (t.equals("--")) {
                sawDashes = true;
                continue;
            }
            String name = t.contains("=") ? t.substring(0, t.indexOf('=')) : t;
            OptionSpec o = appSpec.findOption(name);
            if (o != null && (ealSpec.findOption(name) == null || !hasDashes) && t.startsWith("-")) {
                appPart.add(t);
                if (!t.contains("=") && o.arity().min() > 0 && i + 1 < args.length) {
                    appPart.add(args[++i]);
                }
            } else {
                ealPart.add(t);
            }
        }
        boolean secondary = false;
        boolean noHuge = false;
        boolean devices = appPart.stream().anyMatch(s -> deviceOptions.stream().anyMatch(s::startsWith));
        for (int i = 0; i < ealPart.size(); i++) {
            String t = ealPart.get(i);
            secondary |= t.equals("--proc-type=secondary") || t.equals("--proc-type") && i + 1 < ealPart.size()
                    && ealPart.get(i + 1).equals("secondary");
            noHuge |= t.equals("--no-huge");
            devices |= t.startsWith("-a") || t.startsWith("--allow") || t.startsWith("--vdev");
        }
        if (!secondary && !noHuge && !devices) { // without -a the bound devices not blocked are probed
            List<String> blocked = new ArrayList<>();
            for (int i = 0; i < ealPart.size(); i++) {
                String t = ealPart.get(i);
                if ((t.equals("-b") || t.equals("--block")) && i + 1 < ealPart.size()) {
                    blocked.add(ealPart.get(++i));
                } else if (t.startsWith("--block=") || t.startsWith("-b") && t.length() > 2) {
                    blocked.add(t.substring(t.startsWith("--block=") ? 8 : 2).replaceFirst("^=", ""));
                }
            }
            try {
                devices = !PciScan.select(List.of(), blocked).isEmpty();
            } catch (IllegalArgumentException e) {
                // a bad -b address: the EAL's parser reports it
            }
        }
        if (!secondary && !noHuge && !devices && !ealPart.contains("-h") && !ealPart.contains("--help")
                && Hugepages.available(PageSize.HUGE_2M) * PageSize.HUGE_2M.bytes() < SIMULATED_PORTS_MEMORY) {
            err.println(app + ": WARNING: fewer than " + SIMULATED_PORTS_MEMORY / PageSize.HUGE_2M.bytes() + " free 2 MB "
                    + "hugepages; the simulated ports run on 4 KB pages (--no-huge). For hugepages, as root: echo 1024 > "
                    + Hugepages.nrHugepagesFile(PageSize.HUGE_2M) + " and mount -t hugetlbfs nodev /dev/hugepages");
            ealPart.add("--no-huge");
        }
        List<String> all = new ArrayList<>(ealPart);
        if (!appPart.isEmpty()) {
            all.add("--");
            all.addAll(appPart);
        }
        return all.toArray(String[]::new);
    }
}
