package io.jnic.mp.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.MpRuntime;
import io.jnic.pci.BarHandover;
import io.jnic.pci.PciDevice;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.SysException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Attaching a queue pair when the primary has ended (a secondary that outlived it, or one that joined the
 * orphaned group, {@link MpRuntime#isOrphan()}): nobody can hand the doorbell descriptor over, so the process
 * fetches it from the device itself. A vfio-user device outlives its client (the server keeps its state and
 * DMA regions), so the process connects to the port's socket, which the primary recorded here when it shared
 * the port, reads BAR0's region info (descriptor and sparse areas), maps the queue pages and disconnects
 * again: the mappings stay, and the next process can connect (the server serves one client at a time).
 *
 * <p>What cannot work without a primary, refused with the reason: a queue whose last owner died (nobody is
 * left to reset it and reclaim its mbufs), ports on VFIO, UIO or virtio-user (the kernel lets one process
 * open a VFIO group, and it is the primary's, held open by the group's processes; the vhost-user connection
 * is the primary's), or a vfio-user server that died with the primary (devsim inside the primary).
 *
 * <pre>
 * memzone {@value #MEMZONE}: 0 magic u64, then per port (MAX_PORTS entries of 128 bytes at 64 + 128 * port):
 *   0 length u32 (0: none), 4 the device's reopen name (UTF-8, at most 120 bytes: "vfio-user:" and a socket path)
 * </pre>
 */
public final class OrphanAttach {
    public static final String MEMZONE = "jnic.mp.port_sockets";
    static final long MAGIC = 0x534b434f53504a4aL; // "JJPSOCKS"
    static final long HEADER = 64;
    static final long ENTRY = 128;
    static final int MAX_PATH = 120;
    static final long BYTES = HEADER + ENTRY * PortTable.MAX_PORTS;
    /** How long a process waits for the device socket while another process holds it briefly. */
    static final Duration CONNECT_WAIT = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger(OrphanAttach.class.getName());
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private OrphanAttach() {
    }

    /**
     * The primary: records the name another process can open each shared port's device by
     * ({@link PciDevice#reopenName()}, a vfio-user socket), so that processes can reach the device after it has
     * ended. Devices no other process can open get no entry.
     */
    static void record(MemoryGroup group, Map<EthDevice, PciDevice> devices) {
        Memzone z = group.find(MEMZONE).orElseGet(() -> group.reserve(MEMZONE, BYTES, 64));
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES) {
            throw new IllegalStateException("memzone " + MEMZONE + " has " + m.byteSize() + " bytes, expected " + BYTES);
        }
        m.set(ValueLayout.JAVA_LONG, 0, MAGIC);
        for (Map.Entry<EthDevice, PciDevice> e : devices.entrySet()) {
            int port = e.getKey().portId();
            if (port < 0 || port >= PortTable.MAX_PORTS) {
                continue;
            }
            long at = HEADER + ENTRY * port;
            String name = e.getValue() == null ? null : e.getValue().reopenName();
            byte[] path = name == null ? new byte[0] : name.getBytes(StandardCharsets.UTF_8);
            if (path.length > MAX_PATH) {
                LOG.log(Level.WARNING, "port {0}: the device name {1} is too long to record; processes started after "
                        + "the primary ends cannot attach it", port, name);
                path = new byte[0];
            }
            MemorySegment.copy(path, 0, m, ValueLayout.JAVA_BYTE, at + 4, path.length);
            INT.setRelease(m, at, path.length);
        }
    }

    /** The name the primary recorded to reopen {@code port}'s device by, or null (none can be, none recorded). */
    public static String reopenName(MemoryGroup group, int port) {
        if (port < 0 || port >= PortTable.MAX_PORTS) {
            throw new IllegalArgumentException("no port " + port + " (0.." + (PortTable.MAX_PORTS - 1) + ")");
        }
        Memzone z = group.find(MEMZONE).orElse(null);
        if (z == null || z.memory().byteSize() < BYTES || z.memory().get(ValueLayout.JAVA_LONG, 0) != MAGIC) {
            return null;
        }
        long at = HEADER + ENTRY * port;
        int n = (int) INT.getAcquire(z.memory(), at);
        if (n <= 0 || n > MAX_PATH) {
            return null;
        }
        byte[] b = z.memory().asSlice(at + 4, n).toArray(ValueLayout.JAVA_BYTE);
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * Without a primary nobody resets a queue whose owner died: refuse it, saying so. A free queue or one this
     * process holds is fine.
     */
    static void checkClaimable(QueueOwners owners, MpRuntime rt, int port, int queue) {
        int owner = owners.owner(port, queue);
        if (owner != 0 && owner != rt.pid() && !Proc.isAlive(owner)) {
            throw new IllegalStateException("queue " + queue + " of port " + port + " was driven by pid " + owner
                    + ", which died after the primary (pid " + rt.primaryPid() + "); without a primary nobody can reset "
                    + "the queue and reclaim its mbufs, so it cannot be taken over. Restart the group (stop every process "
                    + "of file prefix '" + rt.filePrefix() + "', then start a primary) to use it again");
        }
    }

    /**
     * Maps the doorbell pages of {@code port} from its device: opens it by the name the primary recorded (connects
     * to its vfio-user socket), takes BAR0's hand-over, maps it, closes the device again (it keeps running).
     */
    static DoorbellBar doorbells(MpRuntime rt, PortTable table, int port) {
        String device = table.deviceName(port);
        String name = reopenName(rt.memory(), port);
        if (name == null) {
            throw new IllegalStateException("port " + port + " (" + device + ") is not a device another process can open "
                    + "(a vfio-user device), and the primary (pid " + rt.primaryPid() + ") has ended: only the primary can "
                    + "hand over a queue of a VFIO, UIO or virtio-user port (the kernel allows one opener of a VFIO group: "
                    + "the primary's, held open by the running processes; a vhost-user connection is the primary's). "
                    + "Restart the group to add processes");
        }
        long deadline = System.nanoTime() + CONNECT_WAIT.toNanos();
        long t0 = System.nanoTime();
        for (int attempt = 1;; attempt++) {
            PciDevice d;
            try {
                d = PciDevice.reopen(name);
            } catch (RuntimeException e) {
                if (e.getCause() instanceof SysException) {
                    throw new IllegalStateException("port " + port + ": its device " + name + " is gone ("
                            + e.getCause().getMessage() + "); a device served inside the primary (l2fwd-mp's default "
                            + "devsim) ends with it. Serve the ports from a standalone devsim (java -jar devsim.jar "
                            + "--socket-dir DIR) to keep them beyond the primary", e);
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("port " + port + ": its device " + name + " stayed busy with another "
                            + "client for " + CONNECT_WAIT.toSeconds() + " s (" + e.getMessage() + ")", e);
                }
                sleep(Math.min(200, 5L * attempt)); // another process is fetching its doorbells right now
                continue;
            }
            try {
                BarHandover h;
                try {
                    h = d.handOverBar(0);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException("port " + port + ": " + e.getMessage(), e);
                }
                try {
                    DoorbellBar bar = DoorbellBar.map(device, 0, h.barSize(), h.fd(), h.regionOffset(), h.areas());
                    LOG.log(Level.INFO, "port {0}: doorbell pages mapped from the device {1} itself (no primary), after "
                            + "{2} connection attempt(s), {3} us", port, name, attempt, (System.nanoTime() - t0) / 1000);
                    return bar;
                } finally {
                    if (h.closeAfterSend()) {
                        Io.closeQuietly(h.fd());
                    }
                }
            } finally {
                d.close(); // the mappings stay; the device keeps running for the group
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a device socket");
        }
    }
}
