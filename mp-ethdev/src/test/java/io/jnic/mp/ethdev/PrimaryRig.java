package io.jnic.mp.ethdev;

import io.jnic.devsim.Devsim;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.pci.PciDevice;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The primary of a test group, in the test JVM: two devsim 82599 ports with generator wires served over
 * vfio-user, probed and started with {@code nq} queue pairs (RSS over all of them), shared with
 * {@link SharedPorts}; {@link #forward} drives queue 0 port 0 -> port 1 on a thread of its own.
 */
final class PrimaryRig implements AutoCloseable {
    final Devsim sim;
    final MpRuntime rt;
    final EthPorts ports;
    final Mempool pool;
    final List<EthDevice> devs = new ArrayList<>();
    final SharedPorts shared;
    volatile boolean stop;
    volatile long rx;
    volatile long tx;
    volatile long dropped;
    volatile long misrouted;
    private Thread fwd;

    PrimaryRig(Path simDir, String prefix, int nq, long ratePps) {
        TestResources.assumeLockable(64L << 20); // -m 64 below: the runtime mlocks its memory
        sim = Devsim.start(new Devsim.Config(2, List.of("gen"), new byte[] {0x02, 0x6a, 0x6e, 0, 0, 0}, ratePps, 64, 64,
                -1, 0, 0));
        sim.command("gen 1 stop");
        List<Path> socks = sim.serveVfioUser(simDir);
        rt = MpRuntime.start(EalOptions.parse("--file-prefix", prefix, "--no-huge", "-m", "64"));
        ports = new EthPorts(rt.memory());
        MempoolConfig pc = MempoolConfig.of("mp_test_pool", 1, 8191);
        long page = rt.memory().pageSize().bytes();
        Memzone z = rt.reserve("mp_test.pool", Mempool.bytesNeeded(pc, page), page);
        pool = Mempool.create(z.memory(), pc, z::iova, page);
        Map<EthDevice, PciDevice> map = new LinkedHashMap<>();
        for (Path s : socks) {
            PciDevice pci = VfioUserDevice.connect(s);
            EthDevice d = ports.probe(pci);
            d.configure(PortConfig.of(nq, nq).withPromiscuous(true).withRss(RssConfig.of(EnumSet.allOf(RssHashType.class))));
            for (int q = 0; q < nq; q++) {
                d.rxQueueSetup(q, 512, pool);
                d.txQueueSetup(q, 512);
            }
            d.start();
            devs.add(d);
            map.put(d, pci);
        }
        QueueOwners owners = QueueOwners.create(rt.memory(), nq);
        shared = SharedPorts.serve(rt, owners, map, List.of(pool));
        owners.claim(0, 0, rt.pid(), 0);
        owners.claim(1, 0, rt.pid(), 0);
    }

    void forward(int nq) {
        fwd = rt.launchFloating("primary-fwd", () -> {
            int lcore = MpRuntime.currentLcore();
            MbufBatch b = new MbufBatch(32);
            Mbuf m = new Mbuf();
            RssOracle oracle = new RssOracle();
            while (!stop) {
                int got = devs.get(0).rxBurst(0, b);
                if (got == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                rx += got;
                for (int i = 0; i < got; i++) {
                    long want = oracle.hash(m.wrap(b.get(i)));
                    if (want < 0 || RssOracle.queue(want, nq) != 0 || (m.rssHash() & 0xFFFFFFFFL) != want) {
                        misrouted++;
                    }
                }
                tx += devs.get(1).txBurst(0, b);
                dropped += b.count();
                b.free(lcore);
            }
        });
    }

    void stopForwarding() throws InterruptedException {
        stop = true;
        if (fwd != null) {
            fwd.join(5000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopForwarding();
        shared.close();
        for (EthDevice d : devs) {
            d.close();
        }
        pool.close();
        ports.close();
        rt.close();
        sim.close();
    }
}
