package io.jnic.driver.virtio.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.NetControl;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.pci.MappedBar;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secondary's side of a virtio-net PCI port without a kernel: the port's rings set up over an in-test
 * transport, the shared port block as a PCI port publishes it (notify BAR 4, QEMU's notify_off_multiplier of 4),
 * and a notify BAR that is plain memory standing for the mapping the primary handed over. Transmitting on the
 * attached pair must put the frame in that pair's transmitq and write the queue's index at its notify address,
 * and nothing at any other queue's. (That a VFIO device fd or UIO resource file handed over really maps the BAR
 * is not shown here: that needs a kernel and a virtio-net-pci device.)
 */
class VirtioPciSecondaryTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long NOTIFY = 0x3000;

    @TempDir
    Path dir;
    MemoryGroup mem;
    Mempool pool;
    Arena arena = Arena.ofShared();

    @BeforeEach
    void setUp() {
        TestResources.assumeLockable(8L << 20); // the memory group is mlocked
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("vps" + Proc.getpid() + "_").runtimeDir(dir).noHuge()
                .size(8L << 20).iovaMode(IovaMode.ASSIGNED).build());
        MempoolConfig c = MempoolConfig.of("vps_pool", 811, 511);
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("pool.vps", Mempool.bytesNeeded(c, page), page);
        pool = Mempool.create(z.memory(), c, z::iova, page);
    }

    @AfterEach
    void tearDown() {
        if (pool != null) { // null: skipped in setUp before anything was made
            pool.close();
            mem.close();
        }
        arena.close();
    }

    /** A device that offers 2 queue pairs and acks every control command; it never touches the rings. */
    static final class Transport implements VirtioTransport, NetControl {
        final boolean inOrder;
        int status;

        Transport(boolean inOrder) {
            this.inOrder = inOrder;
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public long deviceFeatures() {
            return Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNetSpec.F_MQ) | Virtio.bit(VirtioNetSpec.F_CTRL_VQ)
                    | (inOrder ? Virtio.bit(Virtio.F_IN_ORDER) : 0);
        }

        @Override
        public void driverFeatures(long features) {
        }

        @Override
        public int status() {
            return status;
        }

        @Override
        public void status(int s) {
            status = s;
        }

        @Override
        public int maxQueues() {
            return 5;
        }

        @Override
        public int maxQueueSize(int queue) {
            return 256;
        }

        @Override
        public Notifier setupQueue(SplitVirtqueue vq) {
            return () -> { };
        }

        @Override
        public int readConfig(int offset, int width) {
            return offset == VirtioNetSpec.CFG_MAX_VIRTQUEUE_PAIRS ? 2 : 0;
        }

        @Override
        public int configGeneration() {
            return 0;
        }

        @Override
        public int queueInterruptFd(int queue) {
            return -1;
        }

        @Override
        public int configInterruptFd() {
            return -1;
        }

        @Override
        public int command(int cls, int cmd, byte[] data, int length) {
            return VirtioNetSpec.CTRL_OK;
        }

        @Override
        public void close() {
        }
    }

    private MappedBar bar(int index, MemorySegment m) {
        return new MappedBar("test", index, m.byteSize(), List.of(new MappedBar.Window(0, m))) {
            @Override
            protected int trappedRead32(long offset) {
                throw new IllegalStateException();
            }

            @Override
            protected void trappedWrite32(long offset, int value) {
                throw new IllegalStateException();
            }
        };
    }

    @Test
    void offloadBitsOfAnotherBuildAreRefusedByName() {
        PortContext ctx = new PortContext(3, mem, PortTable.of(mem));
        VirtioPortShare share = VirtioPortShare.create(ctx);
        share.offloads(VirtioOffloads.RX_VLAN_STRIP);
        assertEquals(VirtioOffloads.RX_VLAN_STRIP, share.offloads());
        share.offloads(VirtioOffloads.RX_VLAN_STRIP | 1 << 30);
        IllegalStateException e = assertThrows(IllegalStateException.class, share::offloads);
        assertEquals("memzone " + VirtioPortShare.zone(ctx) + " records offload bits 0x40000004 this build does not know: "
                + "the port was started by another jnic build; attach with the same build as the primary's", e.getMessage());
    }

    /** With VIRTIO_F_IN_ORDER (the secondary resumes in-order queues from the shared state) and without. */
    @Test
    void aSecondaryNotifiesItsOwnQueuesThroughTheHandedOverBar() {
        PortTable table = PortTable.of(mem);
        secondaryNotifiesItsOwnQueues(new PortContext(0, mem, table), true);
        secondaryNotifiesItsOwnQueues(new PortContext(1, mem, table), false);
    }

    private void secondaryNotifiesItsOwnQueues(PortContext ctx, boolean inOrder) {
        VirtioNet net = VirtioNet.open(new Transport(inOrder), mem, new MbufOps(pool, Mempool.LCORE_ANY),
                new VirtioNet.Config(ctx.memzoneName("virtio"), 2, 64, true));
        assertEquals(inOrder, net.has(Virtio.F_IN_ORDER));
        assertEquals(inOrder, net.tx(1).virtqueue().inOrder());
        assertEquals(inOrder, net.tx(1).virtqueue().state().inOrder(), "the shared state says so to the secondary");
        VirtioPortShare s = VirtioPortShare.create(ctx);
        s.pairs(2);
        s.features(net.features());
        s.pool(0, pool.poolId());
        s.pool(1, pool.poolId());
        s.notifyBar(4);
        for (int i = 0; i < 4; i++) {
            s.notifyOffset(i, NOTIFY + 4L * i);
        }
        s.publish();

        MemorySegment notify = arena.allocate(0x4000, 4096);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new VirtioPciDriver().attachQueue(ctx, bar(2, notify), 1, 5));
        assertEquals("port " + ctx.portId() + " notifies its queues through BAR4, but BAR2 was handed over", e.getMessage());

        QueuePair q = new VirtioPciDriver().attachQueue(ctx, bar(4, notify), 1, 5);
        assertEquals(3, Short.toUnsignedInt(notify.get(U16, NOTIFY + 12)), "resumed TX queue 3 notified once");
        notify.fill((byte) 0);
        Mbuf m = new Mbuf();
        long h = pool.alloc(5);
        m.wrap(h).append(60);
        MbufBatch b = new MbufBatch(4);
        b.add(h);
        assertEquals(1, q.txBurst(b));
        assertEquals(3, Short.toUnsignedInt(notify.get(U16, NOTIFY + 4L * 3)), "the transmitq of pair 1 is index 3");
        for (int i : new int[] {0, 1, 2}) {
            assertEquals(0, notify.get(U16, NOTIFY + 4L * i), "queue " + i + " is not this secondary's");
        }
        Virtqueue tx = net.tx(1).virtqueue();
        MemorySegment ring = tx.memory();
        int head = Short.toUnsignedInt(ring.get(U16, SplitVirtqueue.availOffset(tx.size()) + 4));
        assertEquals(m.wrap(h).dataIova() - VirtioNetSpec.HDR_SIZE, ring.get(U64, 16L * head),
                "the frame (header in its headroom) is in pair 1's transmit ring, where the device reads it");
        assertEquals(h, tx.state().token(head), "and recorded in the ring's shared state");
        if (inOrder) {
            assertEquals(0, head, "in order: the first position uses descriptor 0");
        }
        // the secondary's RX queue resumed and refilled the ring: every descriptor posted, recorded in the state
        assertEquals(64, net.rx(1).virtqueue().state().outstanding().length);
        q.close();
        net.stop();
        assertEquals(0, pool.inUseCount(), "stopping the port returned every buffer, including the secondary's");
    }
}
