package io.jnic.testsupport.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnic.ethdev.DeviceInfo;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.FlowControl;
import io.jnic.ethdev.LinkSettings;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueuePair;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.testsupport.Toeplitz;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link EthDevice} must do, whatever drives it: a driver's tests extend this class and say, in
 * {@link #open}, how to get a fresh port of that driver and what its wire does with frames ({@link Bench}).
 *
 * <p>Covered: configuration (accepted and refused: too many queues, bad ring sizes, MTUs, offloads and RSS the
 * port lacks), start/stop/restart, RX/TX bursts of 0, 1, odd sizes and more than a ring, statistics that move by
 * exactly the traffic and reset, the link, RSS (the redirection table and key, one flow on one queue, the device's
 * hash against {@link Toeplitz}), queue-pair reset, and bad arguments (a clear exception, nothing half-configured).
 * What a driver does not support must be refused with {@link UnsupportedOperationException} (or
 * {@link IllegalArgumentException} for configurations {@link DeviceInfo} says it cannot take) naming the port:
 * the suite checks the refusal, it never skips the check.
 *
 * <p>Timeouts here only bound a failing wait; nothing passes or fails on speed.
 */
public abstract class EthDeviceConformance {
    /** How long a frame may take to come back before the test fails (a bound on a failure, not a speed check). */
    private static final Duration PATIENCE = Duration.ofSeconds(10);
    private static final int ETHERTYPE = 0x88B5; // IEEE local experimental EtherType: no stack acts on it

    /** What the suite needs from a driver's test: a fresh port and how its wire behaves. */
    protected interface Bench extends AutoCloseable {
        /** A port just probed (state PROBED), which the test may configure, start, stop and close. */
        EthDevice port();

        /** The pool the port's RX queues fill from; at least 4096 mbufs of 2 KB. */
        Mempool pool();

        /**
         * True when every frame the port sends comes back to its own RX, unchanged (a loopback wire, a backend
         * forwarding each queue to itself); false when RX makes frames by itself and TX consumes them (net_null).
         */
        boolean loopsBack();

        /** True when the device computes the Toeplitz hash itself and reports it in each mbuf. */
        default boolean computesRssHash() {
            return false;
        }

        /**
         * What the port's {@code ibytes}/{@code obytes} count for one frame of {@code length} bytes (some devices
         * count the CRC); the per-queue byte counters count the frame alone.
         */
        default long countedBytes(int length) {
            return length;
        }

        @Override
        void close() throws Exception;
    }

    @TempDir
    protected Path dir;
    protected Bench bench;
    protected EthDevice port;
    protected Mempool pool;
    private final int marker = ThreadLocalRandom.current().nextInt();

    /** A fresh port of the driver under test in {@code dir}; skips (JUnit Assumptions) when a resource is missing. */
    protected abstract Bench open(Path dir) throws Exception;

    @BeforeEach
    final void openBench() throws Exception {
        bench = open(dir);
        port = bench.port();
        pool = bench.pool();
    }

    @AfterEach
    final void closeBench() throws Exception {
        if (bench != null) {
            try {
                port.close();
            } finally {
                bench.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    /** A ring size every port takes: 256, or the nearest the port allows. */
    protected int ring() {
        DeviceInfo i = port.info();
        int r = Math.max(i.minRing(), Math.min(256, i.maxRing()));
        return r - r % i.ringAlign();
    }

    /** Configures {@code c}, sets up every queue with {@link #ring()} descriptors and starts; waits for the link. */
    protected void startWith(PortConfig c) {
        port.configure(c);
        setUpQueues();
        port.start();
        assertTrue(port.waitLink(PATIENCE).up(), port.name() + ": no link " + PATIENCE.toSeconds() + " s after start");
    }

    private void setUpQueues() {
        for (int q = 0; q < port.config().rxQueues(); q++) {
            port.rxQueueSetup(q, ring(), pool);
        }
        for (int q = 0; q < port.config().txQueues(); q++) {
            port.txQueueSetup(q, ring());
        }
    }

    private static void assertRefused(Class<? extends RuntimeException> type, EthDevice p, Executable e) {
        RuntimeException x = assertThrows(type, e);
        assertTrue(x.getMessage() != null && x.getMessage().contains(p.name()), "the refusal names the port: " + x);
    }

    /** Runs {@code op}; where the driver cannot do it, it must say so with UnsupportedOperationException naming the port. */
    private void supportedOrSaysSo(String what, Runnable op) {
        try {
            op.run();
        } catch (UnsupportedOperationException e) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(port.name()),
                    what + ": the refusal names the port: " + e.getMessage());
        }
    }

    /** Fills {@code b} with {@code n} frames of {@code len} bytes to this port, sequence numbers from {@code seq}. */
    private void frames(MbufBatch b, int n, int len, int seq) {
        assertTrue(b.alloc(pool, n, Mempool.LCORE_ANY), "pool has " + pool.availableCount() + " mbufs, " + n + " needed");
        byte[] dst = port.macAddress().octets();
        Mbuf m = new Mbuf();
        for (int i = b.count() - n; i < b.count(); i++) {
            m.wrap(b.get(i));
            m.dataLen(len).pktLen(len);
            m.write(0, dst, 0, 6);
            m.setIntBE(6, 0x02636f6e).setShortBE(10, 0x6632).setShortBE(12, ETHERTYPE);
            int s = seq + i - (b.count() - n);
            m.setIntBE(14, marker).setIntBE(18, s).setIntBE(22, len);
            for (int k = 26; k < len; k++) {
                m.setByte(k, (byte) (s * 7 + k));
            }
        }
    }

    /** The sequence number of a frame this test sent, checked byte for byte; fails on any other frame. */
    private int check(Mbuf m, int len) {
        assertEquals(port.portId(), m.port(), "received frame's port");
        assertEquals(len, m.dataLen(), "received frame's length");
        assertEquals(marker, m.getIntBE(14), "a frame this test did not send came in");
        int s = m.getIntBE(18);
        assertEquals(len, m.getIntBE(22));
        for (int k = 26; k < len; k++) {
            if (m.getByte(k) != (byte) (s * 7 + k)) {
                fail("frame " + s + " changed at byte " + k);
            }
        }
        return s;
    }

    /**
     * Sends {@code count} frames of {@code len} bytes on TX queue {@code q}, in bursts of {@code burst}, receiving
     * on every RX queue meanwhile, until every frame came back once, intact. Returns the frames seen per RX queue.
     */
    protected long[] roundTrip(int q, int count, int burst, int len) {
        int rxq = port.config().rxQueues();
        long[] perQueue = new long[rxq];
        boolean[] seen = new boolean[count];
        MbufBatch out = new MbufBatch(burst);
        MbufBatch in = new MbufBatch(32);
        Mbuf m = new Mbuf();
        int sent = 0;
        int got = 0;
        long idle = System.nanoTime();
        // at most half an RX ring in flight: a wire that finds the RX ring full drops frames, as a real one does
        int window = Math.max(1, ring() / 2);
        while (got < count) {
            if (sent < count && out.isEmpty() && sent - got < window) {
                int n = Math.min(Math.min(burst, count - sent), window - (sent - got));
                frames(out, n, len, sent);
                sent += n;
            }
            if (!out.isEmpty()) {
                int before = out.count();
                int took = port.txBurst(q, out);
                assertTrue(took >= 0 && took <= before, "txBurst took " + took + " of " + before);
                assertEquals(before - took, out.count(), "the unsent rest stays in the batch");
            }
            boolean progress = false;
            for (int r = 0; r < rxq; r++) {
                int n = port.rxBurst(r, in);
                assertEquals(n, in.count());
                for (int i = 0; i < n; i++) {
                    int s = check(m.wrap(in.get(i)), len);
                    assertTrue(s >= 0 && s < count && !seen[s], "frame " + s + " came back twice or was never sent");
                    seen[s] = true;
                }
                in.free(Mempool.LCORE_ANY);
                got += n;
                perQueue[r] += n;
                progress |= n > 0;
            }
            if (progress) {
                idle = System.nanoTime();
            } else if (System.nanoTime() - idle > PATIENCE.toNanos()) {
                out.free(Mempool.LCORE_ANY);
                fail(port.name() + ": sent " + sent + " frames on queue " + q + ", " + got + " came back; none for "
                        + PATIENCE.toSeconds() + " s");
            } else {
                Thread.onSpinWait();
            }
        }
        return perQueue;
    }

    /** On a port that makes frames itself: one RX burst of {@code n} into an empty batch, sent back on {@code q}. */
    private int sourceBurst(int q, int n) {
        MbufBatch b = new MbufBatch(n);
        int got = port.rxBurst(q, b);
        assertEquals(n, got, "a generating port fills the batch");
        Mbuf m = new Mbuf();
        for (int i = 0; i < got; i++) {
            assertEquals(port.portId(), m.wrap(b.get(i)).port());
        }
        assertEquals(got, port.txBurst(q, b), "a consuming port takes every frame");
        assertTrue(b.isEmpty());
        return got;
    }

    // ---------------------------------------------------------------------------------------------
    // info and configuration

    @Test
    void aProbedPortDescribesItselfAndIsNotConfigured() {
        DeviceInfo i = port.info();
        assertFalse(i.driverName().isEmpty());
        assertTrue(i.maxRxQueues() >= 1 && i.maxTxQueues() >= 1, i.toString());
        assertTrue(i.minRing() >= 1 && i.minRing() <= i.maxRing() && i.ringAlign() >= 1, i.toString());
        assertTrue(i.minMtu() <= 1500 && 1500 <= i.maxMtu(), i.toString());
        assertEquals(PortState.PROBED, port.state());
        assertNull(port.config());
        assertEquals(1500, port.mtu());
        assertTrue(port.name().contains(port.deviceName()));
        assertFalse(port.macAddress().isMulticast(), "a port's own address is unicast");
        assertRefused(IllegalStateException.class, port, () -> port.rxQueueSetup(0, ring(), pool));
        assertRefused(IllegalStateException.class, port, () -> port.txQueueSetup(0, ring()));
        assertRefused(IllegalStateException.class, port, port::start);
        assertEquals(PortState.PROBED, port.state(), "nothing was half-configured");
    }

    @Test
    void configureRefusesWhatThePortCannotDoAndKeepsNothingOfIt() {
        DeviceInfo i = port.info();
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(i.maxRxQueues() + 1, 1)));
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(1, i.maxTxQueues() + 1)));
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(1, 1).withMtu(i.maxMtu() + 1)));
        if (i.minMtu() > 1) {
            assertRefused(IllegalArgumentException.class, port,
                    () -> port.configure(PortConfig.of(1, 1).withMtu(i.minMtu() - 1)));
        }
        for (RxOffload o : RxOffload.values()) {
            if (!i.rxOffloads().contains(o)) {
                assertRefused(IllegalArgumentException.class, port,
                        () -> port.configure(PortConfig.of(1, 1).withRxOffloads(EnumSet.of(o))));
            }
        }
        for (TxOffload o : TxOffload.values()) {
            if (!i.txOffloads().contains(o)) {
                assertRefused(IllegalArgumentException.class, port,
                        () -> port.configure(PortConfig.of(1, 1).withTxOffloads(EnumSet.of(o))));
            }
        }
        assertThrows(NullPointerException.class, () -> port.configure(null));
        assertThrows(IllegalArgumentException.class, () -> PortConfig.of(0, 1));
        assertThrows(IllegalArgumentException.class, () -> PortConfig.of(1, 1).withMtu(-1));
        assertEquals(PortState.PROBED, port.state(), "a refused configuration leaves the port as it was");
        assertNull(port.config());
        // every offload the port offers is accepted, and the largest queue counts
        PortConfig all = PortConfig.of(i.maxRxQueues(), i.maxTxQueues()).withRxOffloads(i.rxOffloads())
                .withTxOffloads(i.txOffloads());
        port.configure(all);
        assertEquals(all, port.config());
        assertEquals(PortState.CONFIGURED, port.state());
        for (RxOffload o : i.rxOffloads()) {
            assertTrue(port.rxOffload(o));
        }
        // configuring again (not started) replaces the configuration
        port.configure(PortConfig.of(1, 1));
        assertEquals(1, port.config().rxQueues());
        assertTrue(port.config().rxOffloads().isEmpty() && port.config().txOffloads().isEmpty());
    }

    @Test
    void queueSetupRefusesBadQueuesAndRingSizes() {
        DeviceInfo i = port.info();
        port.configure(PortConfig.of(1, 1));
        assertRefused(IllegalArgumentException.class, port, () -> port.rxQueueSetup(-1, ring(), pool));
        assertRefused(IllegalArgumentException.class, port, () -> port.rxQueueSetup(1, ring(), pool));
        assertRefused(IllegalArgumentException.class, port, () -> port.txQueueSetup(-1, ring()));
        assertRefused(IllegalArgumentException.class, port, () -> port.txQueueSetup(1, ring()));
        List<Integer> bad = new ArrayList<>(List.of(-1, 0, i.maxRing() + i.ringAlign()));
        if (i.minRing() > 1) {
            bad.add(i.minRing() - 1);
        }
        if (i.ringAlign() > 1) {
            bad.add(ring() + 1);
        }
        for (int r : bad) {
            assertRefused(IllegalArgumentException.class, port, () -> port.rxQueueSetup(0, r, pool));
            assertRefused(IllegalArgumentException.class, port, () -> port.txQueueSetup(0, r));
        }
        assertThrows(NullPointerException.class, () -> port.rxQueueSetup(0, ring(), null));
        port.rxQueueSetup(0, ring(), pool);
        IllegalStateException e = assertThrows(IllegalStateException.class, port::start);
        assertTrue(e.getMessage().contains("TX queue 0"), "start names the queue not set up: " + e.getMessage());
        assertEquals(PortState.CONFIGURED, port.state());
        port.txQueueSetup(0, ring());
        port.start();
        assertEquals(PortState.STARTED, port.state());
    }

    // ---------------------------------------------------------------------------------------------
    // start, stop, link

    @Test
    void startsStopsAndRestartsAndRefusesReconfigurationWhileStarted() {
        PortConfig c = PortConfig.of(1, 1);
        startWith(c);
        port.start(); // a second start does nothing
        assertEquals(PortState.STARTED, port.state());
        LinkStatus up = port.link();
        assertTrue(up.up() && up.speedMbps() > 0, "link after start: " + up);
        assertRefused(IllegalStateException.class, port, () -> port.configure(c));
        assertRefused(IllegalStateException.class, port, () -> port.rxQueueSetup(0, ring(), pool));
        assertRefused(IllegalStateException.class, port, () -> port.txQueueSetup(0, ring()));
        assertRefused(IllegalStateException.class, port, () -> port.mtu(1500));
        traffic(0, 40);
        port.stop();
        assertEquals(PortState.STOPPED, port.state());
        port.stop(); // a second stop does nothing
        port.link(); // readable while stopped
        port.start();
        assertTrue(port.waitLink(PATIENCE).up(), "link after the restart");
        traffic(0, 40);
        port.stop();
        // a stopped port can be reconfigured with its queues set up again
        port.configure(c);
        setUpQueues();
        port.start();
        assertTrue(port.waitLink(PATIENCE).up());
        traffic(0, 40);
        port.close();
        assertEquals(PortState.CLOSED, port.state());
        port.close(); // a second close does nothing
        assertRefused(IllegalStateException.class, port, () -> port.configure(c));
        assertEquals(0, pool.inUseCount(), "every mbuf back in the pool after close: " + pool.audit(l -> true));
    }

    /** {@code n} frames through queue pair {@code q}: round trip on a looping port, RX then TX on a generating one. */
    private void traffic(int q, int n) {
        if (bench.loopsBack()) {
            roundTrip(q, n, 16, 64);
        } else {
            sourceBurst(q, n);
        }
    }

    @Test
    void linkIsReadBeforeStartAndUpAfter() {
        port.link(); // reading the link of a port not started does not fail
        startWith(PortConfig.of(1, 1));
        LinkStatus l = port.waitLink(PATIENCE);
        assertTrue(l.up(), l.toString());
        assertTrue(l.speedMbps() > 0, l.toString());
        assertEquals(l, port.link(), "the link holds still on an idle port");
    }

    // ---------------------------------------------------------------------------------------------
    // bursts

    @Test
    void burstsOfZeroOneOddSizesAndMoreThanARing() {
        int nq = Math.min(2, Math.min(port.info().maxRxQueues(), port.info().maxTxQueues()));
        startWith(PortConfig.of(nq, nq));
        MbufBatch empty = new MbufBatch(8);
        for (int q = 0; q < nq; q++) {
            assertEquals(0, port.txBurst(q, empty), "an empty burst sends nothing");
        }
        MbufBatch full = new MbufBatch(1);
        assertTrue(full.alloc(pool, 1, Mempool.LCORE_ANY));
        assertEquals(0, port.rxBurst(0, full), "a full batch receives nothing");
        assertEquals(1, full.count());
        full.free(Mempool.LCORE_ANY);
        if (bench.loopsBack()) {
            for (int q = 0; q < nq; q++) {
                roundTrip(q, 1, 1, 60);
                roundTrip(q, 7, 7, 61);
                roundTrip(q, 33, 33, 127);
                roundTrip(q, 99, 31, 1514);
            }
            roundTrip(0, ring() * 2 + 33, 64, 60); // more frames than a ring holds: the rings wrap
            oneBurstLargerThanTheRing();
        } else {
            for (int q = 0; q < nq; q++) {
                for (int n : new int[] {1, 7, 33, 99}) {
                    sourceBurst(q, n);
                }
            }
            sourceBurst(0, ring() * 2 + 33);
        }
        port.close();
        assertEquals(0, pool.inUseCount(), "every mbuf back in the pool: " + pool.audit(l -> true));
    }

    /**
     * One TX burst of more frames than the ring holds: the port takes what fits, the rest stays at the front of the
     * batch; what comes back is intact and comes once. (How many come back is the wire's business: one that finds
     * the RX ring full drops, so only integrity is checked.)
     */
    private void oneBurstLargerThanTheRing() {
        int n = ring() + 64;
        MbufBatch big = new MbufBatch(n);
        frames(big, n, 60, 0);
        int took = port.txBurst(0, big);
        assertTrue(took > 0 && took < n, "a burst of " + n + " on a ring of " + ring() + " took " + took);
        assertEquals(n - took, big.count(), "the unsent rest stays in the batch");
        Mbuf m = new Mbuf();
        assertEquals(took, m.wrap(big.get(0)).getIntBE(18), "the unsent rest starts with the first frame not taken");
        big.free(Mempool.LCORE_ANY);
        boolean[] seen = new boolean[took];
        MbufBatch in = new MbufBatch(32);
        int got = 0;
        long idle = System.nanoTime();
        while (got < took && System.nanoTime() - idle < Duration.ofSeconds(2).toNanos()) {
            int k = port.rxBurst(0, in);
            for (int i = 0; i < k; i++) {
                int s = check(m.wrap(in.get(i)), 60);
                assertTrue(s >= 0 && s < took && !seen[s], "frame " + s + " was not taken or came back twice");
                seen[s] = true;
            }
            in.free(Mempool.LCORE_ANY);
            got += k;
            if (k > 0) {
                idle = System.nanoTime();
            }
        }
    }

    @Test
    void aQueuePairObjectCarriesTheSameTraffic() {
        startWith(PortConfig.of(1, 1));
        QueuePair qp = port.queuePair(0);
        assertSame(qp, port.queuePair(0), "one object per queue for the life of the port");
        MbufBatch b = new MbufBatch(8);
        if (bench.loopsBack()) {
            frames(b, 8, 64, 0);
            long end = System.nanoTime() + PATIENCE.toNanos();
            while (!b.isEmpty()) {
                qp.txBurst(b);
                assertTrue(System.nanoTime() < end, "queue pair 0 does not transmit");
            }
            Mbuf m = new Mbuf();
            int got = 0;
            while (got < 8) {
                int n = qp.rxBurst(b);
                for (int i = 0; i < n; i++) {
                    check(m.wrap(b.get(i)), 64);
                }
                b.free(Mempool.LCORE_ANY);
                got += n;
                assertTrue(System.nanoTime() < end, "queue pair 0 received " + got + " of 8");
            }
        } else {
            assertEquals(8, qp.rxBurst(b));
            assertEquals(8, qp.txBurst(b));
        }
        assertEquals(8, port.stats().qIpackets[0]);
        assertEquals(8, port.stats().qOpackets[0]);
    }

    // ---------------------------------------------------------------------------------------------
    // statistics

    @Test
    void statsMoveByExactlyTheTrafficAndReset() {
        int nq = Math.min(2, Math.min(port.info().maxRxQueues(), port.info().maxTxQueues()));
        startWith(PortConfig.of(nq, nq));
        port.statsReset();
        PortStats zero = port.stats();
        assertEquals(0, zero.ipackets);
        assertEquals(0, zero.opackets);
        long[] rx = new long[nq];
        long[] tx = new long[nq];
        long[] rxBytes = new long[nq];
        long[] txBytes = new long[nq];
        long ibytes = 0;
        long obytes = 0;
        if (bench.loopsBack()) {
            int[][] plan = {{0, 100, 60}, {nq - 1, 57, 1000}};
            for (int[] p : plan) {
                long[] per = roundTrip(p[0], p[1], 32, p[2]);
                tx[p[0]] += p[1];
                txBytes[p[0]] += (long) p[1] * p[2];
                for (int r = 0; r < nq; r++) {
                    rx[r] += per[r];
                    rxBytes[r] += per[r] * p[2];
                }
                ibytes += p[1] * bench.countedBytes(p[2]);
                obytes += p[1] * bench.countedBytes(p[2]);
            }
        } else {
            Mbuf m = new Mbuf();
            for (int q = 0; q < nq; q++) {
                MbufBatch b = new MbufBatch(25 + q);
                int n = port.rxBurst(q, b);
                long bytes = 0;
                for (int i = 0; i < n; i++) {
                    bytes += m.wrap(b.get(i)).dataLen();
                }
                assertEquals(n, port.txBurst(q, b));
                rx[q] += n;
                tx[q] += n;
                rxBytes[q] += bytes;
                txBytes[q] += bytes;
                ibytes += bytes;
                obytes += bytes;
            }
        }
        PortStats s = port.stats();
        assertEquals(Arrays.stream(rx).sum(), s.ipackets, s.toString());
        assertEquals(Arrays.stream(tx).sum(), s.opackets, s.toString());
        assertEquals(ibytes, s.ibytes, s.toString());
        assertEquals(obytes, s.obytes, s.toString());
        for (int q = 0; q < nq; q++) {
            assertEquals(rx[q], s.qIpackets[q], "RX queue " + q + ": " + s);
            assertEquals(tx[q], s.qOpackets[q], "TX queue " + q + ": " + s);
            assertEquals(rxBytes[q], s.qIbytes[q], "RX queue " + q + " bytes: " + s);
            assertEquals(txBytes[q], s.qObytes[q], "TX queue " + q + " bytes: " + s);
        }
        assertEquals(0, s.ierrors);
        assertEquals(0, s.oerrors);
        assertEquals(0, s.rxNombuf);
        Map<String, Long> x = port.xstats();
        assertEquals(s.ipackets, x.get("rx_good_packets"));
        assertEquals(s.opackets, x.get("tx_good_packets"));
        assertEquals(s.ipackets, port.xstat("rx_good_packets"));
        assertRefused(IllegalArgumentException.class, port, () -> port.xstat("no_such_counter"));
        port.statsReset();
        PortStats r = port.stats();
        assertEquals(0, r.ipackets, r.toString());
        assertEquals(0, r.opackets, r.toString());
        assertEquals(0, r.ibytes, r.toString());
        assertEquals(0, r.obytes, r.toString());
        assertEquals(0, r.qIpackets[0], r.toString());
        // and they count from zero again
        traffic(0, 10);
        assertEquals(10, port.stats().opackets);
        assertEquals(10, port.stats().ipackets);
    }

    // ---------------------------------------------------------------------------------------------
    // RSS

    @Test
    void rssSpreadsFlowsByTheRetaAndKeyOrIsRefused() {
        DeviceInfo i = port.info();
        Set<RssHashType> types = EnumSet.noneOf(RssHashType.class);
        for (RssHashType t : List.of(RssHashType.IPV4, RssHashType.IPV4_UDP)) {
            if (i.rssHashTypes().contains(t)) {
                types.add(t);
            }
        }
        int nq = Math.min(4, i.maxRxQueues());
        if (i.retaSize() == 0 || nq < 2 || !types.contains(RssHashType.IPV4_UDP)) {
            // no RSS here: asking for it is refused, and nothing of it stays
            assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(Math.max(1, nq), 1)
                    .withRss(RssConfig.of(EnumSet.of(RssHashType.IPV4_UDP)))));
            assertNull(port.config());
            assertEquals(PortState.PROBED, port.state());
            return;
        }
        // refused: a key of the wrong size, a table of the wrong size, an entry past the queues
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(nq, 1)
                .withRss(new RssConfig(new byte[i.rssKeySize() + 1], null, types))));
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(nq, 1)
                .withRss(new RssConfig(null, new int[i.retaSize() + 1], types))));
        int[] beyond = new int[i.retaSize()];
        beyond[3] = nq;
        assertRefused(IllegalArgumentException.class, port, () -> port.configure(PortConfig.of(nq, 1)
                .withRss(new RssConfig(null, beyond, types))));
        assertNull(port.config());
        int[] reta = new int[i.retaSize()];
        for (int k = 0; k < reta.length; k++) {
            reta[k] = (k * 7 + 3) % nq; // not the default spread
        }
        byte[] key = null;
        if (i.rssKeySize() > 0) {
            key = Toeplitz.microsoftKey();
            key = Arrays.copyOf(key, i.rssKeySize());
            key[5] ^= 0x5a;
        }
        startWith(PortConfig.of(nq, 1).withRss(new RssConfig(key, reta, types)));
        if (!bench.loopsBack()) {
            return; // a port that makes its own frames has no flows to spread
        }
        int flows = 64;
        MbufBatch out = new MbufBatch(32);
        Mbuf m = new Mbuf();
        for (int round = 0; round < 2; round++) {
            for (int f = 0; f < flows; f += 32) {
                frames(out, 32, 64, f);
                for (int k = 0; k < 32; k++) {
                    udp(m.wrap(out.get(k)), flowSource(f + k), 0x0a0000fe, 1024 + f + k, 4789);
                }
                long end = System.nanoTime() + PATIENCE.toNanos();
                while (!out.isEmpty()) {
                    port.txBurst(0, out);
                    assertTrue(System.nanoTime() < end, "transmit stuck");
                }
            }
        }
        Map<Integer, Integer> queueOfFlow = new HashMap<>();
        int[] perQueue = new int[nq];
        MbufBatch in = new MbufBatch(32);
        int got = 0;
        long idle = System.nanoTime();
        while (got < 2 * flows) {
            boolean progress = false;
            for (int q = 0; q < nq; q++) {
                int n = port.rxBurst(q, in);
                for (int k = 0; k < n; k++) {
                    m.wrap(in.get(k));
                    int f = m.getShortBE(34) - 1024;
                    assertTrue(f >= 0 && f < flows, "a frame of no flow sent: source port " + (f + 1024));
                    Integer before = queueOfFlow.putIfAbsent(f, q);
                    assertEquals(before == null ? q : before, q, "flow " + f + " landed on two queues");
                    if (bench.computesRssHash()) {
                        int want = Toeplitz.hash(key == null ? Toeplitz.microsoftKey() : key,
                                Toeplitz.ipv4(flowSource(f), 0x0a0000fe, 1024 + f, 4789));
                        assertEquals(want, m.rssHash(), "flow " + f + ": the device's hash against the oracle");
                        assertEquals(Toeplitz.queue(want, reta), q, "flow " + f + ": the queue the RETA names");
                    }
                    perQueue[q]++;
                }
                in.free(Mempool.LCORE_ANY);
                got += n;
                progress |= n > 0;
            }
            if (progress) {
                idle = System.nanoTime();
            } else {
                assertTrue(System.nanoTime() - idle < PATIENCE.toNanos(), "received " + got + " of " + 2 * flows);
            }
        }
        int used = 0;
        for (int c : perQueue) {
            used += c > 0 ? 1 : 0;
        }
        assertTrue(used > 1, "64 flows over " + nq + " queues used only " + used + ": " + Arrays.toString(perQueue));
    }

    private static int flowSource(int f) {
        return 0x0a000001 + f * 17;
    }

    /** Makes the frame in {@code m} IPv4/UDP with these addresses and ports (checksums 0: the port computes none). */
    private static void udp(Mbuf m, int src, int dst, int sport, int dport) {
        m.setShortBE(12, 0x0800);
        m.setByte(14, (byte) 0x45).setByte(15, (byte) 0).setShortBE(16, 50).setShortBE(18, 0).setShortBE(20, 0);
        m.setByte(22, (byte) 64).setByte(23, (byte) 17).setShortBE(24, 0).setIntBE(26, src).setIntBE(30, dst);
        m.setShortBE(34, sport).setShortBE(36, dport).setShortBE(38, 30).setShortBE(40, 0);
    }

    // ---------------------------------------------------------------------------------------------
    // queue reset

    @Test
    void queuePairResetKeepsTheQueueWorkingOrIsRefused() {
        int nq = Math.min(2, Math.min(port.info().maxRxQueues(), port.info().maxTxQueues()));
        startWith(PortConfig.of(nq, nq));
        traffic(0, 20);
        if (!port.resetsQueuePairs()) {
            assertRefused(UnsupportedOperationException.class, port, () -> port.queuePairReset(0));
            traffic(0, 20); // the refusal changed nothing
            return;
        }
        port.queuePairReset(nq - 1);
        traffic(nq - 1, 20);
        traffic(0, 20);
        port.close();
        assertEquals(0, pool.inUseCount(), "every mbuf back after a reset and close: " + pool.audit(l -> true));
    }

    // ---------------------------------------------------------------------------------------------
    // bad arguments and what is not supported

    @Test
    void badArgumentsAreRefusedAndLeaveThePortWorking() {
        startWith(PortConfig.of(1, 1));
        int max = Math.max(port.info().maxRxQueues(), port.info().maxTxQueues());
        assertRefused(IllegalArgumentException.class, port, () -> port.queuePair(-1));
        assertRefused(IllegalArgumentException.class, port, () -> port.queuePair(max));
        MbufBatch b = new MbufBatch(4);
        // the data path checks no more than an array does, but a queue that does not exist is refused
        assertThrows(IndexOutOfBoundsException.class, () -> port.rxBurst(max, b));
        assertThrows(IndexOutOfBoundsException.class, () -> port.rxBurst(1, b)); // one queue configured
        assertEquals(0, b.count());
        assertTrue(b.alloc(pool, 2, Mempool.LCORE_ANY));
        int inUse = pool.inUseCount();
        assertThrows(IndexOutOfBoundsException.class, () -> port.txBurst(-1, b));
        assertThrows(IndexOutOfBoundsException.class, () -> port.txBurst(1, b));
        // refused before anything was touched: the frames are still the caller's, in the batch
        assertEquals(2, b.count(), "the refused bursts kept the batch");
        assertEquals(inUse, pool.inUseCount(), "nothing was freed");
        b.free(Mempool.LCORE_ANY);
        assertThrows(NullPointerException.class, () -> port.rxBurst(0, null));
        assertThrows(NullPointerException.class, () -> port.txBurst(0, null));
        assertThrows(IllegalArgumentException.class, () -> new MbufBatch(-1));
        assertThrows(IllegalArgumentException.class, () -> new MbufBatch(0));
        assertRefused(IllegalArgumentException.class, port, () -> port.vlanFilter(-1, true));
        assertRefused(IllegalArgumentException.class, port, () -> port.vlanFilter(4096, true));
        if (!port.rxOffload(RxOffload.VLAN_FILTER)) {
            assertRefused(IllegalStateException.class, port, () -> port.vlanFilter(5, true));
        }
        MacAddress unicast = MacAddress.of(new byte[] {0x02, 0, 0, 0, 0, 0x42});
        MacAddress multicast = MacAddress.of(new byte[] {0x01, 0, 0x5e, 0, 0, 1});
        assertRefused(IllegalArgumentException.class, port, () -> port.multicastAddresses(List.of(unicast)));
        assertRefused(IllegalArgumentException.class, port, () -> port.macAddrAdd(multicast));
        port.stop();
        int mtu = port.mtu();
        assertRefused(IllegalArgumentException.class, port, () -> port.mtu(port.info().maxMtu() + 1));
        assertRefused(IllegalArgumentException.class, port, () -> port.mtu(-5));
        assertEquals(mtu, port.mtu(), "a refused MTU leaves the old one");
        assertEquals(PortState.STOPPED, port.state());
        port.start();
        assertTrue(port.waitLink(PATIENCE).up());
        traffic(0, 20); // still works after every refusal
    }

    @Test
    void whatThePortCannotDoItSaysSo() {
        startWith(PortConfig.of(1, 1));
        MacAddress mac = port.macAddress();
        supportedOrSaysSo("set the MAC address", () -> port.macAddress(mac));
        assertEquals(mac, port.macAddress());
        supportedOrSaysSo("link listener", () -> port.addLinkListener(l -> { }));
        supportedOrSaysSo("reset listener", () -> port.addResetListener(r -> { }));
        supportedOrSaysSo("all-multicast", () -> port.allmulticast(false));
        supportedOrSaysSo("multicast list", () -> port.multicastAddresses(List.of()));
        supportedOrSaysSo("link settings", () -> port.linkSettings(LinkSettings.AUTONEG));
        supportedOrSaysSo("flow control", () -> port.flowControl(FlowControl.NONE));
        supportedOrSaysSo("timestamps", () -> {
            port.timesyncEnable();
            port.readTime();
            port.timesyncDisable();
        });
        boolean p = port.promiscuous();
        port.promiscuous(!p);
        assertEquals(!p, port.promiscuous());
        port.promiscuous(p);
        assertTrue(port.waitLink(PATIENCE).up(), "the port still has its link");
        traffic(0, 10);
    }
}
