package io.jnic.multiproc;

import java.util.Locale;

/** The role a process asks for (--proc-type): DPDK's RTE_PROC_PRIMARY, RTE_PROC_SECONDARY, RTE_PROC_AUTO. */
public enum ProcType {
    /** Creates the shared state of a file prefix; only one per prefix. */
    PRIMARY,
    /** Attaches to the state a running primary created. */
    SECONDARY,
    /** Primary when none runs for the prefix, secondary otherwise. */
    AUTO;

    /** The option's spelling of this type. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses primary, secondary or auto (any case); the message says what is allowed. */
    public static ProcType parse(String s) {
        for (ProcType t : values()) {
            if (t.optionName().equalsIgnoreCase(s.strip())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown process type '" + s + "': expected primary, secondary or auto");
    }
}
