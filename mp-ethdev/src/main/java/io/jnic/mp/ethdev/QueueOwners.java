package io.jnic.mp.ethdev;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Who drives which queue pair of the shared ports: one pid per (port, queue) in a memzone, claimed by CAS so
 * that two processes can never drive one queue (DPDK leaves this to the user and corrupts the ring when
 * they get it wrong). Also records the group's {@code --num-procs}, which every process must agree on.
 *
 * <pre>
 * 0 magic u64, 8 version u32, 12 num-procs u32, 16 max queues u32, 64 owners u32[MAX_PORTS][MAX_QUEUES]
 * </pre>
 */
public final class QueueOwners {
    public static final String MEMZONE = "jnic.mp.queue_owners";
    public static final long MAGIC = 0x5352454e574f514aL; // "JQOWNERS"
    public static final int VERSION = 1;
    public static final int MAX_QUEUES = 16;
    private static final long OFF_MAGIC = 0;
    private static final long OFF_VERSION = 8;
    private static final long OFF_NUM_PROCS = 12;
    private static final long OFF_MAX_QUEUES = 16;
    private static final long OFF_OWNERS = 64;
    static final long BYTES = OFF_OWNERS + 4L * PortTable.MAX_PORTS * MAX_QUEUES;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment seg;

    private QueueOwners(MemorySegment seg) {
        this.seg = seg;
    }

    /** The primary: creates the table for a group of {@code numProcs} processes (one queue pair each). */
    public static QueueOwners create(MemoryGroup group, int numProcs) {
        if (numProcs < 1 || numProcs > MAX_QUEUES) {
            throw new IllegalArgumentException("--num-procs must be 1.." + MAX_QUEUES + " (one queue pair per process), got "
                    + numProcs);
        }
        Memzone z = group.find(MEMZONE).orElseGet(() -> group.reserve(MEMZONE, BYTES, 64));
        MemorySegment m = z.memory();
        m.asSlice(0, BYTES).fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, OFF_VERSION, VERSION);
        m.set(ValueLayout.JAVA_INT, OFF_NUM_PROCS, numProcs);
        m.set(ValueLayout.JAVA_INT, OFF_MAX_QUEUES, MAX_QUEUES);
        return new QueueOwners(m);
    }

    /** The primary: the ports are shared now (secondaries waiting in {@link #attach} go on). */
    public void publish() {
        VarHandle.releaseFence();
        seg.set(ValueLayout.JAVA_LONG, OFF_MAGIC, MAGIC);
    }

    /**
     * Another process: the table the primary published, waiting up to {@code waitNanos} for a primary that is
     * still setting its ports up; a clear error when there is none.
     */
    public static QueueOwners attach(MemoryGroup group, long waitNanos) {
        long end = System.nanoTime() + waitNanos;
        Memzone z;
        while ((z = group.find(MEMZONE).orElse(null)) == null || z.memory().byteSize() < BYTES
                || (long) ValueLayout.JAVA_LONG.varHandle().getAcquire(z.memory(), OFF_MAGIC) != MAGIC) {
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("the primary of file prefix '" + group.filePrefix() + "' shares no ports "
                        + "(no memzone " + MEMZONE + " published within " + waitNanos / 1_000_000 + " ms); start it as a "
                        + "multi-process app such as l2fwd-mp");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the primary to share its ports");
            }
        }
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES || m.get(ValueLayout.JAVA_LONG, OFF_MAGIC) != MAGIC
                || m.get(ValueLayout.JAVA_INT, OFF_VERSION) != VERSION
                || m.get(ValueLayout.JAVA_INT, OFF_MAX_QUEUES) != MAX_QUEUES) {
            throw new IllegalStateException("memzone " + MEMZONE + " is not a queue owner table of this build");
        }
        return new QueueOwners(m);
    }

    /** The group's --num-procs. */
    public int numProcs() {
        return seg.get(ValueLayout.JAVA_INT, OFF_NUM_PROCS);
    }

    private static long slot(int port, int queue) {
        if (port < 0 || port >= PortTable.MAX_PORTS || queue < 0 || queue >= MAX_QUEUES) {
            throw new IllegalArgumentException("no queue " + queue + " of port " + port + " (ports 0.."
                    + (PortTable.MAX_PORTS - 1) + ", queues 0.." + (MAX_QUEUES - 1) + ")");
        }
        return OFF_OWNERS + 4L * (port * MAX_QUEUES + queue);
    }

    /** The pid driving queue pair {@code queue} of {@code port}, 0 when none. */
    public int owner(int port, int queue) {
        return (int) INT.getAcquire(seg, slot(port, queue));
    }

    /**
     * Claims queue pair {@code queue} of {@code port} for {@code pid}. When the holder is a process that
     * died, waits up to {@code recoveryNanos} for the primary to recover the queue (reset it and free the
     * slot); after that (no primary left to recover it) takes it over as the dead process left it.
     *
     * @throws QueueBusyException naming the owner's pid when a live process drives it
     */
    public void claim(int port, int queue, int pid, long recoveryNanos) {
        long s = slot(port, queue);
        long deadline = System.nanoTime() + recoveryNanos;
        for (;;) {
            int cur = (int) INT.getAcquire(seg, s);
            if (cur == pid) {
                return;
            }
            if (cur != 0 && Proc.isAlive(cur)) {
                throw new QueueBusyException(port, queue, cur);
            }
            if (cur != 0 && System.nanoTime() - deadline < 0) {
                try {
                    Thread.sleep(5); // the primary's recovery of the dead owner's queue is under way
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while queue " + queue + " of port " + port
                            + " was being recovered from dead pid " + cur);
                }
                continue;
            }
            if (INT.compareAndSet(seg, s, cur, pid)) {
                return;
            }
        }
    }

    /** Gives the queue back if {@code pid} holds it; true when it did. */
    public boolean release(int port, int queue, int pid) {
        return INT.compareAndSet(seg, slot(port, queue), pid, 0);
    }

    /** Thrown by {@link #claim} when another live process drives the queue. */
    public static final class QueueBusyException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final int ownerPid;

        QueueBusyException(int port, int queue, int ownerPid) {
            super("queue " + queue + " of port " + port + " is already driven by pid " + ownerPid + " (one process per "
                    + "queue); give this process another --proc-id, or stop pid " + ownerPid + " first");
            this.ownerPid = ownerPid;
        }

        public int ownerPid() {
            return ownerPid;
        }
    }
}
