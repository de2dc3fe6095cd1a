package io.jnic.driver.virtio.testbed;

import io.jnic.driver.virtio.TestBuffers;
import io.jnic.driver.virtio.PackedVirtqueue;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.ethdev.VirtioEthDevice;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.pci.LegacyPciTransport;
import io.jnic.driver.virtio.pci.ModernPciTransport;
import io.jnic.driver.virtio.pci.VirtioPciTransports;
import io.jnic.memory.Backing;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.PageSize;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.pci.PciAddress;
import io.jnic.pci.PciDevice;
import io.jnic.pci.uio.UioPciDevice;
import io.jnic.pci.vfio.VfioPciDevice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Runs inside the QEMU test bed (driver-virtio/testbed-virtio.sh): two modern virtio-net-pci devices on one QEMU
 * hub, one bound to vfio-pci (behind the emulated VT-d, IOVAs we assign), one to uio_pci_generic (physical
 * addresses); frames go from each to the other and every byte is checked. Then, when two more addresses are
 * given, the same with two legacy-only devices (QEMU disable-modern=on, 1af4:1000, I/O BAR0) on a second hub:
 * one through VFIO, one through UIO, both with physical addresses. Prints "@@T PASS|FAIL name".
 * Not a surefire test (it needs the guest); built with the test classes.
 */
public final class VirtioGuestMain {
    private static int failed;

    public static void main(String[] args) throws Exception {
        // These checks bind, unbind and reset PCI devices: only inside the test bed's guest, whose /init
        // is booted with jnic.dir= on the kernel command line. Never on a host.
        if (!java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cmdline")).contains(" jnic.dir=")) {
            System.err.println("refusing to run: this program rebinds PCI devices and runs only inside the QEMU test"
                    + " bed guest (testbed/run.sh), never on a host");
            System.exit(2);
        }
        PciAddress vfioAddr = PciAddress.parse(args[0]);
        PciAddress uioAddr = PciAddress.parse(args[1]);
        try (MemoryGroup ga = group("gva", IovaMode.ASSIGNED); MemoryGroup gb = group("gvb", IovaMode.PHYSICAL);
                PciDevice da = VfioPciDevice.open(vfioAddr); PciDevice db = UioPciDevice.open(uioAddr)) {
            TestBuffers ba = new TestBuffers(ga.reserve("bufs", 1024L * 2048, 4096), 2048);
            TestBuffers bb = new TestBuffers(gb.reserve("bufs", 1024L * 2048, 4096), 2048);
            VirtioNet a = null;
            VirtioNet b = null;
            try {
                a = VirtioNet.open(ModernPciTransport.open(da, ga), ga, ba, new VirtioNet.Config("va", 1, 256, true));
                check("vfio open: VERSION_1 + ACCESS_PLATFORM negotiated, features 0x" + Long.toHexString(a.features()),
                        a.has(Virtio.F_VERSION_1) && a.has(Virtio.F_ACCESS_PLATFORM));
                b = VirtioNet.open(ModernPciTransport.open(db, gb), gb, bb, new VirtioNet.Config("vb", 1, 256, false));
                check("uio open: features 0x" + Long.toHexString(b.features()), b.has(Virtio.F_VERSION_1));
                check("link up on both (STATUS " + a.has(VirtioNetSpec.F_STATUS) + ")", a.linkUp() && b.linkUp());
                check("MACs from config space " + HexFormat.ofDelimiter(":").formatHex(a.mac()) + " "
                        + HexFormat.ofDelimiter(":").formatHex(b.mac()), a.mac()[5] == 3 && b.mac()[5] == 6);
                if (a.has(VirtioNetSpec.F_CTRL_RX)) {
                    a.setPromiscuous(false);
                    a.setPromiscuous(true);
                    a.setMacTable(new byte[][] {a.mac()}, new byte[0][]);
                    check("control queue: promiscuous off/on, MAC table acked", true);
                }
                exchange("vfio -> uio", a, ba, b, bb);
                exchange("uio -> vfio", b, bb, a, ba);
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                check("exception " + e, false);
            } finally {
                if (a != null) {
                    a.close();
                }
                if (b != null) {
                    b.close();
                }
            }
            check("every buffer returned (" + ba.available() + "/" + ba.capacity() + ", " + bb.available() + "/"
                    + bb.capacity() + ")", ba.available() == ba.capacity() && bb.available() == bb.capacity());
            try {
                ethdev("", false, ga, da, gb, db, 801);
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                check("ethdev exception " + e, false);
            }
        }
        if (args.length >= 4) {
            try {
                legacy(PciAddress.parse(args[2]), PciAddress.parse(args[3]));
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                check("legacy exception " + e, false);
            }
        }
        if (args.length >= 6) {
            try {
                packed(PciAddress.parse(args[4]), PciAddress.parse(args[5]));
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                check("packed exception " + e, false);
            }
        }
        if (args.length >= 8) {
            try {
                tap(PciAddress.parse(args[6]), PciAddress.parse(args[7]));
            } catch (RuntimeException e) {
                e.printStackTrace(System.out);
                check("tap exception " + e, false);
            }
        }
        System.out.println("@@T SUMMARY virtio " + (failed == 0 ? "ok" : failed + " failed"));
        System.exit(failed == 0 ? 0 : 1);
    }

    /**
     * Two legacy-only virtio-net devices: the one behind VFIO (and the vIOMMU, which a legacy device bypasses)
     * and the one behind UIO both need physical addresses; an ASSIGNED group is refused before the device is
     * touched. Frames both ways through VirtioNet, then through ethdev ports that net_virtio opened as legacy.
     */
    private static void legacy(PciAddress vfioAddr, PciAddress uioAddr) throws InterruptedException {
        try (MemoryGroup ga = group("gla", IovaMode.PHYSICAL); MemoryGroup gb = group("glb", IovaMode.PHYSICAL);
                MemoryGroup gx = group("glx", IovaMode.ASSIGNED);
                PciDevice da = VfioPciDevice.open(vfioAddr); PciDevice db = UioPciDevice.open(uioAddr)) {
            check("legacy: devices " + hex(da) + " " + hex(db) + " chosen as " + VirtioPciTransports.kind(da) + "/"
                    + VirtioPciTransports.kind(db), VirtioPciTransports.kind(da) == VirtioPciTransports.Kind.LEGACY
                    && VirtioPciTransports.kind(db) == VirtioPciTransports.Kind.LEGACY);
            try {
                LegacyPciTransport.open(da, gx).close();
                check("legacy vfio with IOVA mode ASSIGNED refused", false);
            } catch (VirtioException e) {
                check("legacy vfio with IOVA mode ASSIGNED refused: " + e.getMessage().substring(0, 60) + "...",
                        e.getMessage().contains("IOVA mode ASSIGNED") && e.getMessage().contains("PHYSICAL"));
            }
            TestBuffers ba = new TestBuffers(ga.reserve("bufs", 1024L * 2048, 4096), 2048);
            TestBuffers bb = new TestBuffers(gb.reserve("bufs", 1024L * 2048, 4096), 2048);
            VirtioNet a = null;
            VirtioNet b = null;
            try {
                LegacyPciTransport ta = LegacyPciTransport.open(da, ga);
                System.out.println("@@INFO " + ta);
                a = VirtioNet.open(ta, ga, ba, new VirtioNet.Config("la", 1, 256, true));
                LegacyPciTransport tb = LegacyPciTransport.open(db, gb);
                System.out.println("@@INFO " + tb);
                b = VirtioNet.open(tb, gb, bb, new VirtioNet.Config("lb", 1, 256, false));
                check("legacy vfio open: no VERSION_1, MRG_RXBUF + ANY_LAYOUT, features 0x" + Long.toHexString(a.features())
                        + ", MSI-X config at 0x" + Integer.toHexString(ta.configOffset()) + ", rx ring "
                        + a.rx(0).virtqueue().size(), !a.has(Virtio.F_VERSION_1) && a.has(VirtioNetSpec.F_MRG_RXBUF)
                        && a.has(Virtio.F_ANY_LAYOUT) && ((io.jnic.driver.virtio.SplitVirtqueue) a.rx(0).virtqueue()).isLegacyLayout());
                check("legacy uio open: features 0x" + Long.toHexString(b.features()) + ", config at 0x"
                        + Integer.toHexString(tb.configOffset()), !b.has(Virtio.F_VERSION_1)
                        && tb.configOffset() == LegacyPciTransport.CONFIG_OFFSET);
                check("legacy link up on both", a.linkUp() && b.linkUp());
                check("legacy MACs from the I/O BAR " + HexFormat.ofDelimiter(":").formatHex(a.mac()) + " "
                        + HexFormat.ofDelimiter(":").formatHex(b.mac()), a.mac()[5] == 7 && b.mac()[5] == 8);
                if (a.has(VirtioNetSpec.F_CTRL_RX)) {
                    a.setPromiscuous(false);
                    a.setPromiscuous(true);
                    check("legacy control queue: promiscuous off/on acked", true);
                }
                exchange("legacy vfio -> uio", a, ba, b, bb);
                exchange("legacy uio -> vfio", b, bb, a, ba);
            } finally {
                if (a != null) {
                    a.close();
                }
                if (b != null) {
                    b.close();
                }
            }
            check("legacy: every buffer returned (" + ba.available() + "/" + ba.capacity() + ", " + bb.available() + "/"
                    + bb.capacity() + ")", ba.available() == ba.capacity() && bb.available() == bb.capacity());
            ethdev("legacy ", true, ga, da, gb, db, 803);
        }
    }

    /**
     * Two modern devices that offer packed rings (QEMU's packed=on), one behind VFIO and the vIOMMU, one behind UIO:
     * RING_PACKED is negotiated and the queues are packed; frames both ways through VirtioNet, then through ethdev.
     */
    private static void packed(PciAddress vfioAddr, PciAddress uioAddr) throws InterruptedException {
        try (MemoryGroup ga = group("gpa", IovaMode.ASSIGNED); MemoryGroup gb = group("gpb", IovaMode.PHYSICAL);
                PciDevice da = VfioPciDevice.open(vfioAddr); PciDevice db = UioPciDevice.open(uioAddr)) {
            TestBuffers ba = new TestBuffers(ga.reserve("bufs", 1024L * 2048, 4096), 2048);
            TestBuffers bb = new TestBuffers(gb.reserve("bufs", 1024L * 2048, 4096), 2048);
            VirtioNet a = null;
            VirtioNet b = null;
            try {
                a = VirtioNet.open(ModernPciTransport.open(da, ga), ga, ba, new VirtioNet.Config("pa", 1, 256, true));
                b = VirtioNet.open(ModernPciTransport.open(db, gb), gb, bb, new VirtioNet.Config("pb", 1, 256, false));
                check("packed: RING_PACKED negotiated on both (features 0x" + Long.toHexString(a.features()) + ", 0x"
                        + Long.toHexString(b.features()) + "), packed queues", a.has(Virtio.F_RING_PACKED)
                        && b.has(Virtio.F_RING_PACKED) && a.rx(0).virtqueue() instanceof PackedVirtqueue
                        && b.rx(0).virtqueue() instanceof PackedVirtqueue);
                check("packed MACs from config space", a.mac()[5] == 9 && b.mac()[5] == 10);
                exchange("packed vfio -> uio", a, ba, b, bb);
                exchange("packed uio -> vfio", b, bb, a, ba);
            } finally {
                if (a != null) {
                    a.close();
                }
                if (b != null) {
                    b.close();
                }
            }
            check("packed: every buffer returned (" + ba.available() + "/" + ba.capacity() + ", " + bb.available() + "/"
                    + bb.capacity() + ")", ba.available() == ba.capacity() && bb.available() == bb.capacity());
            ethdev("packed ", false, ga, da, gb, db, 805);
        }
    }

    /**
     * Two modern devices on host TAPs joined by a host bridge: QEMU offers the offloads (its backend takes the
     * virtio-net header) and the host kernel carries them out. First the receiving port asks for none, so the kernel
     * must finish what the sender asked for: a UDP checksum, and a 64000-byte TCP payload sent as one TSO chain cut
     * into MSS-sized segments with their own checksums, sequence numbers and IP ids. Then the receiver asks for LRO
     * and GUEST_TSO4 lets the kernel hand over the packet whole.
     */
    private static void tap(PciAddress vfioAddr, PciAddress uioAddr) throws InterruptedException {
        try (MemoryGroup ga = group("gta", IovaMode.ASSIGNED); MemoryGroup gb = group("gtb", IovaMode.PHYSICAL);
                PciDevice da = VfioPciDevice.open(vfioAddr); PciDevice db = UioPciDevice.open(uioAddr);
                Mempool pa = pool(ga, 807); Mempool pb = pool(gb, 808)) {
            EthDevice a = new EthPorts(ga).probe(da);
            EthDevice b = new EthPorts(gb).probe(db);
            check("tap: QEMU offers the offloads " + a.info().txOffloads() + " / " + b.info().rxOffloads(),
                    a.info().txOffloads().containsAll(java.util.EnumSet.of(TxOffload.TCP_CKSUM, TxOffload.UDP_CKSUM,
                            TxOffload.TCP_TSO, TxOffload.MULTI_SEGS))
                            && b.info().rxOffloads().containsAll(java.util.EnumSet.of(RxOffload.TCP_CKSUM, RxOffload.TCP_LRO)));
            PortConfig tx = PortConfig.of(1, 1).withTxOffloads(java.util.EnumSet.of(TxOffload.TCP_CKSUM,
                    TxOffload.UDP_CKSUM, TxOffload.TCP_TSO, TxOffload.MULTI_SEGS));
            start(a, tx, pa);
            start(b, PortConfig.of(1, 1).withRxOffloads(java.util.EnumSet.of(RxOffload.SCATTER)), pb);
            a.waitLink(java.time.Duration.ofSeconds(5));
            b.waitLink(java.time.Duration.ofSeconds(5));
            byte[] u = addressed(io.jnic.driver.virtio.ethdev.Frames.ipv4(17, 300, 1), b, a);
            java.util.List<byte[]> got = send(a, pa, b, u, MbufFlags.TX_IPV4 | MbufFlags.TX_UDP_CKSUM,
                    Mbuf.packTxOffload(14, 20, 0, 0), 1);
            byte[] want = u.clone();
            int c = io.jnic.driver.virtio.ethdev.Frames.l4Checksum(u, 17);
            want[40] = (byte) (c >> 8);
            want[41] = (byte) c;
            check("tap: the host kernel filled the UDP checksum we asked for (0x" + Integer.toHexString(c) + ")",
                    got.size() == 1 && Arrays.equals(want, got.get(0)));
            int payload = 64000; // 44 full segments and a short one: TSO of a 64 KB payload
            int mss = 1448;
            byte[] t = addressed(io.jnic.driver.virtio.ethdev.Frames.tso(io.jnic.driver.virtio.ethdev.Frames.ipv4(6,
                    payload, 7)), b, a);
            int n = (payload + mss - 1) / mss;
            got = send(a, pa, b, t.clone(), MbufFlags.TX_IPV4 | MbufFlags.TX_TCP_SEG, Mbuf.packTxOffload(14, 20, 20, mss), n);
            check("tap: TSO of a 64000-byte payload arrives as " + got.size() + " segments (" + n + " expected), each "
                    + "with valid checksums, its sequence number, the next IP id and the payload in order",
                    segmentsValid(t, got, mss));
            // receive offloads on: GUEST_TSO4 negotiated, the kernel hands the packet over whole
            b.stop();
            start(b, PortConfig.of(1, 1).withRxOffloads(java.util.EnumSet.of(RxOffload.TCP_LRO, RxOffload.TCP_CKSUM)), pb);
            b.waitLink(java.time.Duration.ofSeconds(5));
            got = send(a, pa, b, t.clone(), MbufFlags.TX_IPV4 | MbufFlags.TX_TCP_SEG, Mbuf.packTxOffload(14, 20, 20, mss), 1);
            boolean whole = got.size() == 1 && got.get(0).length == t.length
                    && Arrays.equals(Arrays.copyOfRange(got.get(0), 54, t.length), Arrays.copyOfRange(t, 54, t.length));
            check("tap: with LRO the packet arrives whole (" + (got.isEmpty() ? 0 : got.get(0).length) + " bytes), flagged "
                    + "RX_LRO with segment size " + lastSegsz + ", partial checksum", whole && lastLro && lastSegsz == mss
                    && lastL4 == MbufFlags.RX_L4_CKSUM_NONE);
            a.close();
            b.close();
            check("tap: mbufs back in their pools (" + pa.availableCount() + ", " + pb.availableCount() + " of 1023)",
                    pa.availableCount() == 1023 && pb.availableCount() == 1023);
        }
    }

    private static boolean lastLro;
    private static int lastSegsz;
    private static long lastL4;

    private static void start(EthDevice p, PortConfig c, Mempool pool) {
        p.configure(c);
        p.rxQueueSetup(0, 256, pool);
        p.txQueueSetup(0, 256);
        p.start();
    }

    /** {@code f} from {@code from}'s MAC to {@code to}'s. */
    private static byte[] addressed(byte[] f, EthDevice to, EthDevice from) {
        System.arraycopy(to.macAddress().octets(), 0, f, 0, 6);
        System.arraycopy(from.macAddress().octets(), 0, f, 6, 6);
        return f;
    }

    /**
     * Sends {@code f} as a chain of 2000-byte mbufs with the given offload request and collects the IPv4 frames
     * {@code to} receives until {@code want} arrived or 3 s passed (other traffic on the bridge is skipped).
     */
    private static java.util.List<byte[]> send(EthDevice from, Mempool pool, EthDevice to, byte[] f, long flags,
            long lens, int want) throws InterruptedException {
        return send(from, pool, to, f, flags, lens, 0, want, true, 3_000_000_000L);
    }

    /** As above with a VLAN tag, and {@code ipOnly} false: every frame counts. */
    private static java.util.List<byte[]> send(EthDevice from, Mempool pool, EthDevice to, byte[] f, long flags,
            long lens, int tci, int want, boolean ipOnly, long waitNanos) throws InterruptedException {
        Mbuf m = new Mbuf();
        Mbuf head = new Mbuf();
        long h = Mbuf.NULL;
        for (int o = 0; o < f.length; o += 2000) {
            int k = Math.min(2000, f.length - o);
            long x = pool.alloc(Mempool.LCORE_ANY);
            m.wrap(x).append(k);
            m.write(0, f, o, k);
            if (h == Mbuf.NULL) {
                h = x;
            } else {
                head.wrap(h).chain(x);
            }
        }
        head.wrap(h).olFlags(flags).txOffload(lens).vlanTci(tci);
        MbufBatch tx = new MbufBatch(1);
        tx.add(h);
        while (!tx.isEmpty()) {
            from.txBurst(0, tx);
        }
        java.util.List<byte[]> got = new java.util.ArrayList<>();
        MbufBatch rx = new MbufBatch(32);
        long deadline = System.nanoTime() + waitNanos;
        while (got.size() < want && System.nanoTime() < deadline) {
            int r = to.rxBurst(0, rx);
            for (int i = 0; i < r; i++) {
                long x = rx.get(i);
                m.wrap(x);
                long ol = m.olFlags();
                int segsz = Mbuf.tsoSegsz(m.txOffload());
                int tciOf = m.vlanTci();
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                while (x != Mbuf.NULL) {
                    m.wrap(x);
                    byte[] d = new byte[m.dataLen()];
                    m.read(0, d, 0, d.length);
                    out.writeBytes(d);
                    x = m.next();
                }
                byte[] g = out.toByteArray();
                if (!ipOnly || g.length > 34 && g[12] == 8 && g[13] == 0 && g[26] == 10) { // our 10.0.0.x frames
                    got.add(g);
                    lastLro = (ol & MbufFlags.RX_LRO) != 0;
                    lastSegsz = segsz;
                    lastL4 = ol & MbufFlags.RX_L4_CKSUM_MASK;
                    lastTci = tciOf;
                }
            }
            rx.free(Mempool.LCORE_ANY);
            if (r == 0) {
                Thread.sleep(1);
            }
        }
        return got;
    }

    /** Segments of TSO packet {@code t}: IPv4 and TCP checksums valid, lengths, ids, sequence numbers, flags, payload. */
    private static boolean segmentsValid(byte[] t, java.util.List<byte[]> segs, int mss) {
        int payload = t.length - 54;
        if (segs.size() != (payload + mss - 1) / mss) {
            System.out.println("@@INFO " + segs.size() + " segments");
            return false;
        }
        int id0 = io.jnic.driver.virtio.ethdev.Frames.field(t, 18);
        long seq0 = java.nio.ByteBuffer.wrap(t, 38, 4).getInt() & 0xFFFFFFFFL;
        for (int k = 0; k < segs.size(); k++) {
            byte[] g = segs.get(k);
            int len = Math.min(mss, payload - k * mss);
            int ipSum = io.jnic.driver.virtio.ethdev.Frames.fold(io.jnic.driver.virtio.ethdev.Frames.sum(g, 14, 20, 0));
            long seq = java.nio.ByteBuffer.wrap(g, 38, 4).getInt() & 0xFFFFFFFFL;
            int tcpField = io.jnic.driver.virtio.ethdev.Frames.field(g, 50);
            boolean ok = g.length == 54 + len && ipSum == 0xFFFF
                    && io.jnic.driver.virtio.ethdev.Frames.field(g, 16) == 40 + len
                    && io.jnic.driver.virtio.ethdev.Frames.field(g, 18) == ((id0 + k) & 0xFFFF)
                    && seq == seq0 + (long) k * mss
                    && tcpField == io.jnic.driver.virtio.ethdev.Frames.l4Checksum(g, 6)
                    && ((g[47] & 0x08) != 0) == (k == segs.size() - 1) // PSH on the last only
                    && Arrays.equals(Arrays.copyOfRange(g, 54, g.length), Arrays.copyOfRange(t, 54 + k * mss, 54 + k * mss + len));
            if (!ok) {
                System.out.println("@@INFO segment " + k + ": " + g.length + " bytes, ip sum 0x" + Integer.toHexString(ipSum)
                        + ", total length " + io.jnic.driver.virtio.ethdev.Frames.field(g, 16) + ", id "
                        + io.jnic.driver.virtio.ethdev.Frames.field(g, 18) + " (first " + id0 + "), seq " + seq + " (first "
                        + seq0 + "), tcp checksum 0x" + Integer.toHexString(tcpField) + " (right: 0x"
                        + Integer.toHexString(io.jnic.driver.virtio.ethdev.Frames.l4Checksum(g, 6)) + "), flags 0x"
                        + Integer.toHexString(g[47] & 0xFF));
                return false;
            }
        }
        return true;
    }

    private static String hex(PciDevice d) {
        return String.format("%04x:%04x", d.configRead(0, 2), d.configRead(2, 2));
    }

    private static MemoryGroup group(String prefix, IovaMode mode) {
        return MemoryGroup.create(MemoryConfig.builder().filePrefix(prefix).runtimeDir(Path.of("/run/jnic-vtb", prefix))
                .pageSize(PageSize.HUGE_2M).backing(Backing.MEMFD).iovaMode(mode).size(8L << 20).build());
    }

    private static void exchange(String what, VirtioNet from, TestBuffers fb, VirtioNet to, TestBuffers tb)
            throws InterruptedException {
        int n = 40;
        int ok = 0;
        long[] t = new long[32];
        int[] l = new int[32];
        for (int i = 0; i < n; i++) {
            int len = 60 + i * 37;
            byte[] f = frame(to.mac(), from.mac(), i, len);
            long tok = fb.alloc();
            MemorySegment.copy(f, 0, fb.memory(), ValueLayout.JAVA_BYTE, fb.offset(tok) + VirtioNetSpec.HDR_SIZE, len);
            while (from.tx(0).transmit(new long[] {tok}, new int[] {len}, 1) == 0) {
                Thread.onSpinWait();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean got = false;
            while (!got && System.nanoTime() < deadline) {
                int r = to.rx(0).receive(t, l, 32);
                for (int k = 0; k < r; k++) {
                    byte[] g = new byte[l[k]];
                    MemorySegment.copy(tb.memory(), ValueLayout.JAVA_BYTE, tb.offset(t[k]) + VirtioNetSpec.HDR_SIZE, g,
                            0, l[k]);
                    tb.free(t[k]);
                    if (g.length >= 14 && g[12] == (byte) 0x88 && g[13] == (byte) 0xB5) {
                        got = true;
                        if (Arrays.equals(f, g)) {
                            ok++;
                        } else {
                            System.out.println("mismatch in frame " + i + ": sent " + len + " got " + g.length);
                        }
                    } // else: other traffic on the hub (the e1000e's kernel stack)
                }
                if (r == 0) {
                    Thread.sleep(1);
                }
            }
            if (!got) {
                System.out.println("@@INFO " + what + ": frame " + i + " did not arrive; tx " + from.tx(0).virtqueue()
                        + "; rx " + to.rx(0).virtqueue());
                break; // the rest would wait 5 s each
            }
        }
        from.tx(0).reclaim();
        check(what + ": " + ok + "/" + n + " frames (60.." + (60 + (n - 1) * 37) + " bytes) arrived byte for byte", ok == n);
    }

    private static Mempool pool(MemoryGroup g, int id) {
        MempoolConfig c = MempoolConfig.of("tbpool" + id, id, 1023);
        long page = g.pageSize().bytes();
        Memzone z = g.reserve("tbpool" + id, Mempool.bytesNeeded(c, page), page);
        return Mempool.create(z.memory(), c, z::iova, page);
    }

    /** The same two devices as ethdev ports (net_virtio found by its PCI id), mbufs from each side to the other. */
    private static void ethdev(String label, boolean legacy, MemoryGroup ga, PciDevice da, MemoryGroup gb, PciDevice db,
            int poolId) throws InterruptedException {
        try (Mempool pa = pool(ga, poolId); Mempool pb = pool(gb, poolId + 1)) {
            EthDevice a = new EthPorts(ga).probe(da);
            EthDevice b = new EthPorts(gb).probe(db);
            boolean kind = ((VirtioEthDevice) a).transport() instanceof LegacyPciTransport == legacy
                    && ((VirtioEthDevice) b).transport() instanceof LegacyPciTransport == legacy;
            check(label + "ethdev probe: " + a.info().driverName() + " " + a.macAddress() + ", " + b.macAddress()
                    + (legacy ? " (legacy transport chosen)" : ""), a.info().driverName().equals("net_virtio") && kind);
            for (EthDevice p : new EthDevice[] {a, b}) {
                p.configure(PortConfig.of(1, 1));
                p.rxQueueSetup(0, 256, p == a ? pa : pb);
                p.txQueueSetup(0, 256);
                p.start();
            }
            check(label + "ethdev links up", a.waitLink(java.time.Duration.ofSeconds(5)).up()
                    && b.waitLink(java.time.Duration.ofSeconds(5)).up());
            ethExchange(label + "ethdev vfio -> uio", a, pa, b);
            ethExchange(label + "ethdev uio -> vfio", b, pb, a);
            if (!legacy) {
                features(label, a, pa, b, pb);
            }
            a.close();
            b.close();
            check(label + "ethdev mbufs back in their pools (" + pa.availableCount() + ", " + pb.availableCount() + " of 1023)",
                    pa.availableCount() == 1023 && pb.availableCount() == 1023);
        }
    }

    /**
     * What QEMU's virtio-net does with our control commands and chains: jumbo frames as indirect-table chains out
     * and MRG_RXBUF chains in, the VLAN filter (CTRL_VLAN), the unicast MAC table and all-multicast (CTRL_RX) -
     * each one decides in QEMU which frames reach the other port.
     */
    private static void features(String label, EthDevice a, Mempool pa, EthDevice b, Mempool pb)
            throws InterruptedException {
        PortConfig c = PortConfig.of(1, 1).withMtu(9000)
                .withRxOffloads(java.util.EnumSet.of(RxOffload.SCATTER, RxOffload.VLAN_FILTER, RxOffload.VLAN_STRIP))
                .withTxOffloads(java.util.EnumSet.of(TxOffload.MULTI_SEGS, TxOffload.VLAN_INSERT));
        for (EthDevice p : new EthDevice[] {a, b}) {
            p.stop();
            p.configure(c);
            p.rxQueueSetup(0, 256, p == a ? pa : pb);
            p.txQueueSetup(0, 256);
            p.start();
        }
        a.waitLink(java.time.Duration.ofSeconds(5));
        b.waitLink(java.time.Duration.ofSeconds(5));
        byte[] to = b.macAddress().octets();
        byte[] from = a.macAddress().octets();
        int ok = 0;
        for (int len : new int[] {3000, 9018}) {
            ok += Arrays.equals(frame(to, from, len, len), deliver(a, pa, b, frame(to, from, len, len), 0, 0)) ? 1 : 0;
            ok += Arrays.equals(frame(from, to, len, len), deliver(b, pb, a, frame(from, to, len, len), 0, 0)) ? 1 : 0;
        }
        check(label + "jumbo frames of 3000 and 9018 bytes both ways as chains, byte for byte: " + ok + "/4", ok == 4);
        b.vlanFilter(5, true);
        byte[] f = frame(to, from, 1, 200);
        byte[] v5 = deliver(a, pa, b, f, MbufFlags.TX_VLAN, 5);
        byte[] v6 = deliver(a, pa, b, f, MbufFlags.TX_VLAN, 6);
        check(label + "VLAN filter in QEMU: VLAN 5 passes (stripped by the driver), VLAN 6 is dropped",
                Arrays.equals(f, v5) && lastTci == 5 && v6 == null);
        byte[] other = {2, 0, 0, 0, 0, 0x77};
        byte[] g = frame(other, from, 2, 100);
        byte[] before = deliver(a, pa, b, g, 0, 0);
        b.macAddrAdd(MacAddress.of(other));
        byte[] after = deliver(a, pa, b, g, 0, 0);
        check(label + "MAC table in QEMU: a unicast to another address dropped, passes once added",
                before == null && Arrays.equals(g, after));
        byte[] group = {1, 0, 0x5e, 0, 0, 1};
        byte[] mcast = frame(group, from, 3, 100);
        byte[] m1 = deliver(a, pa, b, mcast, 0, 0);
        b.allmulticast(true);
        byte[] m2 = deliver(a, pa, b, mcast, 0, 0);
        b.allmulticast(false);
        b.multicastAddresses(java.util.List.of(MacAddress.of(group)));
        byte[] m3 = deliver(a, pa, b, mcast, 0, 0);
        check(label + "multicast in QEMU: dropped, passes with all-multicast, and with the group listed",
                m1 == null && Arrays.equals(mcast, m2) && Arrays.equals(mcast, m3));
    }

    private static int lastTci;

    /** Sends {@code f} (chained over 2000-byte mbufs, VLAN tag {@code tci}) and returns what arrives within 1 s, or null. */
    private static byte[] deliver(EthDevice from, Mempool pool, EthDevice to, byte[] f, long flags, int tci)
            throws InterruptedException {
        java.util.List<byte[]> got = send(from, pool, to, f, flags, 0, tci, 1, false, 1_000_000_000L);
        return got.isEmpty() ? null : got.get(0);
    }

    private static void ethExchange(String what, EthDevice from, Mempool pool, EthDevice to) throws InterruptedException {
        Mbuf m = new Mbuf();
        MbufBatch tx = new MbufBatch(32);
        MbufBatch rx = new MbufBatch(32);
        int ok = 0;
        int n = 30;
        for (int i = 0; i < n; i++) {
            byte[] f = frame(to.macAddress().octets(), from.macAddress().octets(), 100 + i, 64 + i * 47);
            long h = pool.alloc(Mempool.LCORE_ANY);
            m.wrap(h).append(f.length);
            m.write(0, f, 0, f.length);
            tx.add(h);
            while (!tx.isEmpty()) {
                from.txBurst(0, tx);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean got = false;
            while (!got && System.nanoTime() < deadline) {
                int r = to.rxBurst(0, rx);
                for (int k = 0; k < r; k++) {
                    m.wrap(rx.get(k));
                    byte[] g = new byte[m.dataLen()];
                    m.read(0, g, 0, g.length);
                    if (g.length >= 14 && g[12] == (byte) 0x88 && g[13] == (byte) 0xB5) {
                        got = true;
                        if (Arrays.equals(f, g)) {
                            ok++;
                        }
                    }
                }
                rx.free(Mempool.LCORE_ANY);
                if (r == 0) {
                    Thread.sleep(1);
                }
            }
        }
        check(what + ": " + ok + "/" + n + " frames byte for byte", ok == n);
    }

    static byte[] frame(byte[] dst, byte[] src, int seq, int len) {
        byte[] f = new byte[len];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        for (int i = 14; i < len; i++) {
            f[i] = (byte) (i * 13 + seq);
        }
        return f;
    }

    private static void check(String name, boolean ok) {
        System.out.println("@@T " + (ok ? "PASS" : "FAIL") + " " + name);
        if (!ok) {
            failed++;
        }
    }
}
