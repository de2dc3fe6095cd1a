package io.jnic.multiproc.port;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.MpRuntime;
import io.jnic.pci.PciDevice;
import io.jnic.pci.vfiouser.SparseArea;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.pci.vfiouser.VfioUserException;
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
 *   0 length u32 (0: none), 4 socket path (UTF-8, at most 107 bytes, the limit of sun_path)
 * </pre>
 */
public final class OrphanAttach {
    public static final String MEMZONE = "jnic.mp.port_sockets";
    static final long MAGIC = 0x534b434f53504a4aL; // "JJPSOCKS"
    static final long HEADER = 64;
    static final long ENTRY = 128;
    static final int MAX_PATH = 107;
    static final long BYTES = HEADER + ENTRY * PortTable.MAX_PORTS;
    /** How long a process waits for the device socket while another process holds it briefly. */
    static final Duration CONNECT_WAIT = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger(OrphanAttach.class.getName());
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private OrphanAttach() {
    }

    /**
     * The primary: records the vfio-user socket of each shared port, so that processes can reach the device
     * after it has ended. Ports on other transports get no entry.
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
            byte[] path = e.getValue() instanceof VfioUserDevice v
                    ? Path.of(v.name()).toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8)
                    : new byte[0];
            if (path.length > MAX_PATH) {
                LOG.log(Level.WARNING, "port {0}: vfio-user socket path of {1} bytes is too long to record; processes "
                        + "started after the primary ends cannot attach it", port, path.length);
                path = new byte[0];
            }
            MemorySegment.copy(path, 0, m, ValueLayout.JAVA_BYTE, at + 4, path.length);
            INT.setRelease(m, at, path.length);
        }
    }

    /** The vfio-user socket the primary recorded for {@code port}, or null (another transport, none recorded). */
    public static Path socketPath(MemoryGroup group, int port) {
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
        return Path.of(new String(b, StandardCharsets.UTF_8));
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
     * Maps the doorbell pages of {@code port} from its device: connects to the vfio-user socket the primary
     * recorded, takes BAR0's descriptor and sparse areas, maps them, disconnects (the device keeps running).
     */
    static DoorbellBar doorbells(MpRuntime rt, PortTable table, int port) {
        String device = table.deviceName(port);
        Path socket = socketPath(rt.memory(), port);
        if (socket == null) {
            throw new IllegalStateException("port " + port + " (" + device + ") is not a vfio-user device, and the primary "
                    + "(pid " + rt.primaryPid() + ") has ended: only the primary can hand over a queue of a VFIO, UIO or "
                    + "virtio-user port (the kernel allows one opener of a VFIO group: the primary's, held open by the "
                    + "running processes; a vhost-user connection is the primary's). Restart the group to add processes");
        }
        long deadline = System.nanoTime() + CONNECT_WAIT.toNanos();
        long t0 = System.nanoTime();
        for (int attempt = 1;; attempt++) {
            VfioUserDevice v;
            try {
                v = VfioUserDevice.connect(socket);
            } catch (VfioUserException e) {
                if (e.getCause() instanceof SysException) {
                    throw new IllegalStateException("port " + port + ": its vfio-user server " + socket + " is gone ("
                            + e.getCause().getMessage() + "); a device served inside the primary (l2fwd-mp's default "
                            + "devsim) ends with it. Serve the ports from a standalone devsim (java -jar devsim.jar "
                            + "--socket-dir DIR) to keep them beyond the primary", e);
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("port " + port + ": its vfio-user server " + socket + " stayed busy "
                            + "with another client for " + CONNECT_WAIT.toSeconds() + " s (" + e.getMessage() + ")", e);
                }
                sleep(Math.min(200, 5L * attempt)); // another process is fetching its doorbells right now
                continue;
            }
            try {
                VfioUserDevice.Region r = v.region(0);
                int fd = v.barDescriptor(0);
                if (r == null || fd < 0 || r.sparseAreas().isEmpty()) {
                    throw new IllegalStateException("port " + port + " (" + socket + "): BAR0 has no mappable queue pages");
                }
                List<SparseArea> areas = r.sparseAreas();
                long[][] a = new long[areas.size()][];
                for (int i = 0; i < a.length; i++) {
                    a[i] = new long[] {areas.get(i).offset(), areas.get(i).size()};
                }
                DoorbellBar bar = DoorbellBar.map(device, 0, r.size(), fd, r.offset(), a);
                LOG.log(Level.INFO, "port {0}: doorbell pages mapped from the device {1} itself (no primary), after {2} "
                        + "connection attempt(s), {3} us", port, socket, attempt, (System.nanoTime() - t0) / 1000);
                return bar;
            } finally {
                v.close(); // the mappings stay; the device keeps running for the group
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
