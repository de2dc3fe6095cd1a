package io.jnic.mp.ethdev.testbed;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.Backing;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PageSize;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SecondaryQueues;
import io.jnic.mp.ethdev.SharedPorts;
import io.jnic.pci.PciAddress;
import io.jnic.pci.PciDevice;
import io.jnic.pci.uio.UioPciDevice;
import io.jnic.pci.vfio.VfioPciDevice;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs inside the QEMU test bed (mp-ethdev/testbed-mp-virtio.sh): a primary probes the virtio-net-pci device
 * behind the emulated VT-d through VFIO and shares its queue pair; a secondary in a child JVM attaches it (the
 * VFIO device fd handed over, the notify BAR mapped from it, the rings resumed from shared memory) and sends
 * frames, which the primary receives byte for byte on the other device (uio_pci_generic, in a memory group of its
 * own: physical addresses) on the same QEMU hub. Then the secondary is killed with SIGKILL and the primary
 * recovers the pair: no mbuf is left owned by it. Prints "@@T PASS|FAIL name". Not a surefire test.
 */
public final class MpVirtioGuestMain {
    private static final String PREFIX = "mpvtb";
    private static final int FRAMES = 30;
    private static int failed;

    public static void main(String[] args) throws Exception {
        // binds, unbinds and resets PCI devices: only inside the test bed's guest (jnic.dir= on its command line)
        if (!Files.readString(Path.of("/proc/cmdline")).contains(" jnic.dir=")) {
            System.err.println("refusing to run: this program drives PCI devices and runs only inside the QEMU test bed "
                    + "guest, never on a host");
            System.exit(2);
        }
        if (args[0].equals("secondary")) {
            secondary(MacAddress.parse(args[1]));
            return;
        }
        try {
            primary(PciAddress.parse(args[1]), PciAddress.parse(args[2]));
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            check("exception " + e, false);
        }
        System.out.println("@@T SUMMARY mpvirtio " + (failed == 0 ? "ok" : failed + " failed"));
        System.exit(failed == 0 ? 0 : 1);
    }

    private static void primary(PciAddress vfioAddr, PciAddress uioAddr) throws Exception {
        MemoryGroup gb = MemoryGroup.create(MemoryConfig.builder().filePrefix("mpvuio").runtimeDir(Path.of("/run/mpvuio"))
                .pageSize(PageSize.HUGE_2M).backing(Backing.MEMFD).iovaMode(IovaMode.PHYSICAL).size(8L << 20).build());
        Mempool pb = pool(gb.reserve("pb", Mempool.bytesNeeded(MempoolConfig.of("pb", 802, 1023), 2 << 20), 2 << 20),
                MempoolConfig.of("pb", 802, 1023), 2 << 20);
        EthDevice rx = new EthPorts(gb).probe(UioPciDevice.open(uioAddr));
        rx.configure(PortConfig.of(1, 1));
        rx.rxQueueSetup(0, 256, pb);
        rx.txQueueSetup(0, 256);
        rx.start();
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--file-prefix", PREFIX, "--no-huge", "-m", "32"))) {
            EthPorts ports = new EthPorts(rt.memory());
            MempoolConfig pc = MempoolConfig.of("mpvtb_pool", 7, 1023);
            long page = rt.memory().pageSize().bytes();
            Mempool pool = pool(rt.reserve("mpvtb.pool", Mempool.bytesNeeded(pc, page), page), pc, page);
            PciDevice pci = VfioPciDevice.open(vfioAddr);
            EthDevice tx = ports.probe(pci);
            tx.configure(PortConfig.of(1, 1));
            tx.rxQueueSetup(0, 256, pool);
            tx.txQueueSetup(0, 256);
            tx.start();
            check("links up", tx.waitLink(java.time.Duration.ofSeconds(5)).up() && rx.waitLink(java.time.Duration.ofSeconds(5)).up());
            QueueOwners owners = QueueOwners.create(rt.memory(), 1);
            try (SharedPorts sp = SharedPorts.serve(rt, owners, Map.of(tx, pci), List.of(pool))) {
                List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                        "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m",
                        "-Djnic.runtime.base=" + System.getProperty("jnic.runtime.base"), "-cp",
                        System.getProperty("java.class.path"), MpVirtioGuestMain.class.getName(), "secondary",
                        rx.macAddress().toString()));
                Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
                String line = null;
                List<String> seen = new ArrayList<>();
                while ((line = out.readLine()) != null && !line.startsWith("SENT") && !line.startsWith("ERROR")) {
                    seen.add(line);
                }
                check("secondary attached the VFIO port's queue pair and sent: " + line + " " + seen,
                        line != null && line.startsWith("SENT"));
                int ok = receive(rx, tx.macAddress());
                check("the primary received the secondary's " + ok + "/" + FRAMES + " frames byte for byte on the UIO "
                        + "device", ok == FRAMES);
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while ((sp.queuesReset() < 1 || owners.owner(0, 0) != 0) && System.nanoTime() < end) {
                    Thread.sleep(20);
                }
                Thread.sleep(200); // the pool reclaim follows the queue reset
                MempoolAudit a = pool.audit(l -> l < 0);
                check("SIGKILL: the pair recovered (" + sp.queuesReset() + " reset), nothing owned by the dead secondary: "
                        + a, sp.queuesReset() == 1 && a.isClean());
            }
            tx.close();
            MempoolAudit a = pool.audit(l -> l < 0);
            check("after stop every mbuf is back: " + a, a.isClean() && a.inUse() == 0);
            pool.close();
            ports.close();
        } finally {
            rx.close();
            pb.close();
            gb.close();
        }
    }

    private static Mempool pool(Memzone z, MempoolConfig c, long page) {
        return Mempool.create(z.memory(), c, z::iova, page);
    }

    static byte[] frame(byte[] dst, byte[] src, int seq) {
        int len = 64 + seq * 41;
        byte[] f = new byte[len];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        for (int i = 14; i < len; i++) {
            f[i] = (byte) (i * 11 + seq);
        }
        return f;
    }

    private static int receive(EthDevice rx, MacAddress from) throws InterruptedException {
        Mbuf m = new Mbuf();
        MbufBatch b = new MbufBatch(32);
        boolean[] got = new boolean[FRAMES];
        int ok = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ok < FRAMES && System.nanoTime() < end) {
            int r = rx.rxBurst(0, b);
            for (int k = 0; k < r; k++) {
                m.wrap(b.get(k));
                byte[] g = new byte[m.dataLen()];
                m.read(0, g, 0, g.length);
                if (g.length >= 64 && g[12] == (byte) 0x88 && g[13] == (byte) 0xB5) {
                    int seq = (g.length - 64) / 41;
                    if (seq < FRAMES && !got[seq] && Arrays.equals(frame(rx.macAddress().octets(), from.octets(), seq), g)) {
                        got[seq] = true;
                        ok++;
                    }
                }
            }
            b.free(Mempool.LCORE_ANY);
            if (r == 0) {
                Thread.sleep(1);
            }
        }
        return ok;
    }

    private static void secondary(MacAddress dst) {
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", PREFIX))) {
            MpRuntime.FloatingLcore lcore = rt.attachFloatingThread();
            SecondaryQueues sq = SecondaryQueues.join(rt);
            QueuePair q = sq.attach(0, 0, lcore.id());
            Mempool pool = Mempool.lookup(7);
            byte[] src = sq.table().mac(0).octets();
            Mbuf m = new Mbuf();
            MbufBatch b = new MbufBatch(4);
            for (int i = 0; i < FRAMES; i++) {
                byte[] f = frame(dst.octets(), src, i);
                long h = pool.alloc(lcore.id());
                m.wrap(h).append(f.length);
                m.write(0, f, 0, f.length);
                b.add(h);
                while (!b.isEmpty()) {
                    q.txBurst(b);
                }
                Thread.sleep(2);
            }
            for (int i = 0; i < 5; i++) {
                pool.alloc(lcore.id()); // held at the kill: the audit must find and return them
            }
            System.out.println("SENT " + FRAMES);
            System.out.flush();
            Thread.sleep(600_000); // until killed
        } catch (Throwable e) {
            System.out.println("ERROR " + e);
            e.printStackTrace(System.out);
        }
    }

    private static void check(String name, boolean ok) {
        System.out.println("@@T " + (ok ? "PASS" : "FAIL") + " " + name);
        if (!ok) {
            failed++;
        }
    }
}
