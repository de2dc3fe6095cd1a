package io.jnic.ethdev;

import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import java.nio.file.Path;

/** Child JVM: attaches the group (prefix, runtime dir) and prints every used port table entry, one per line. */
public final class PortTableChild {
    public static void main(String[] args) {
        MemoryConfig c = MemoryConfig.builder().filePrefix(args[0]).runtimeDir(Path.of(args[1])).noHuge()
                .iovaMode(IovaMode.ASSIGNED).build();
        try (MemoryGroup g = MemoryGroup.attach(c)) {
            PortTable t = PortTable.of(g);
            for (int p = 0; p < PortTable.MAX_PORTS; p++) {
                if (t.state(p) != PortState.FREE) {
                    System.out.println(p + " " + t.driverName(p) + " " + t.deviceName(p) + " " + t.state(p) + " "
                            + t.rxQueues(p) + "/" + t.txQueues(p) + " " + t.mac(p) + " " + t.link(p).up() + " pid "
                            + t.ownerPid(p));
                }
            }
            System.out.println("end");
        }
    }
}
