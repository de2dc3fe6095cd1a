package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ethdev bursts over virtio-net queues, for the port's owner ({@link VirtioEthDevice}) and for a process that
 * attached one queue pair ({@link VirtioSharedQueue}): mbufs in and out of batches, the virtio-net header in each
 * mbuf's headroom. One thread; reusable scratch arrays, no allocation once they have grown.
 */
final class VirtioBursts {
    private final int lcore;
    private final Mbuf mbuf = new Mbuf();
    private long[] scratchTokens = new long[64];
    private long[] scratchIovas = new long[64];
    private int[] scratchLengths = new int[64];
    /** Mbufs transmit could not carry (multi-segment, shared, no headroom): freed and counted. */
    long txDropped;

    VirtioBursts(int lcore) {
        this.lcore = lcore;
    }

    int rx(VirtioNetRxQueue q, MbufBatch batch) {
        int have = batch.count();
        int room = batch.capacity() - have;
        if (room == 0) {
            return 0;
        }
        int[] lens = lengths(batch.capacity());
        long[] h = batch.handles();
        int got = q.receive(h, have, lens, room); // the queue's MbufOps set each mbuf's lengths and port
        batch.count(have + got);
        return got;
    }

    int tx(VirtioNetTxQueue q, MbufBatch batch) {
        int count = batch.count();
        if (count == 0) {
            return 0;
        }
        long[] h = batch.handles();
        long[] tok = tokens(count);
        long[] iovas = iovas(count);
        int[] lens = lengths(count);
        Mbuf m = mbuf;
        int ok = 0;
        int dropped = 0;
        for (int i = 0; i < count; i++) {
            // one lookup per packet: check it, zero the header in its headroom, note the header's IOVA
            m.wrap(h[i]);
            int head = m.headroom(); // data_off, read (and checked) once
            if (m.nbSegs() != 1 || head < VirtioNetSpec.HDR_SIZE || m.refcnt() != 1) {
                Mempool.free(h[i], lcore); // cannot carry it: counted, not left to block the queue
                dropped++;
                continue;
            }
            // the header goes in the headroom and is zeroed per packet, as DPDK's in-order path does (a fixed
            // per-slot header would cost a second descriptor per packet, halving what the ring holds)
            MemorySegment seg = m.pool().segment();
            long hdr = m.dataPosition() - VirtioNetSpec.HDR_SIZE;
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, hdr, 0L);
            seg.set(ValueLayout.JAVA_INT_UNALIGNED, hdr + 8, 0);
            tok[ok] = h[i];
            iovas[ok] = m.bufIova() + head - VirtioNetSpec.HDR_SIZE;
            lens[ok++] = VirtioNetSpec.HDR_SIZE + m.dataLen(); // the descriptor: header and frame
        }
        txDropped += dropped;
        int sent = q.transmitPrepared(tok, iovas, lens, ok);
        int left = ok - sent;
        System.arraycopy(tok, sent, h, 0, left);
        batch.count(left);
        return sent + dropped;
    }

    /** Records {@code owner} as the allocating lcore of each mbuf in {@code handles} (for the pool audit). */
    static void own(long[] handles, int owner) {
        Mbuf m = new Mbuf(); // control path: attach, detach, recovery
        for (long h : handles) {
            m.wrap(h).owner(owner);
        }
    }

    private long[] iovas(int n) {
        if (scratchIovas.length < n) {
            scratchIovas = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchIovas;
    }

    private long[] tokens(int n) {
        if (scratchTokens.length < n) {
            scratchTokens = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchTokens;
    }

    private int[] lengths(int n) {
        if (scratchLengths.length < n) {
            scratchLengths = new int[Integer.highestOneBit(n) << 1];
        }
        return scratchLengths;
    }
}
