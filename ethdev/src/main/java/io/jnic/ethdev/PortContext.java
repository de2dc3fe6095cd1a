package io.jnic.ethdev;

import io.jnic.memory.MemoryGroup;

/**
 * What a driver gets with a new port: its id, the memory group that holds its rings (and where
 * {@link PortTable} lives), and the table entry to keep current.
 */
public record PortContext(int portId, MemoryGroup memory, PortTable table) {
    /** A memzone name unique to this port: "jnic.p{port}.{what}". */
    public String memzoneName(String what) {
        return "jnic.p" + portId + "." + what;
    }
}
