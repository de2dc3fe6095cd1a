package io.jnic.ethdev;

import io.jnic.memory.mbuf.Mempool;
import java.util.EnumSet;
import java.util.Set;

/**
 * What {@link EthDevice#configure} sets (rte_eth_conf, reduced to what jnic drivers implement).
 *
 * @param rss    null: no RSS (everything to queue 0)
 * @param mtu    0: the driver's default (1500)
 * @param rxInterrupts route per-queue RX interrupts so that {@link EthDevice#rxWait} can block
 * @param lcore  the lcore whose mempool cache the queues allocate and free through (the thread polling them);
 *               {@link Mempool#LCORE_ANY} (the default) goes to the pool's ring directly
 * @param rxOffloads receive offloads for every queue (rxmode.offloads); each must be in {@link DeviceInfo#rxOffloads}
 * @param txOffloads transmit offloads for every queue (txmode.offloads); each must be in {@link DeviceInfo#txOffloads}
 */
public record PortConfig(int rxQueues, int txQueues, RssConfig rss, int mtu, boolean promiscuous,
        boolean rxInterrupts, int lcore, Set<RxOffload> rxOffloads, Set<TxOffload> txOffloads) {
    public PortConfig {
        if (rxQueues < 1 || txQueues < 1) {
            throw new IllegalArgumentException("a port needs at least one RX and one TX queue, got " + rxQueues + " RX, "
                    + txQueues + " TX");
        }
        if (lcore < Mempool.LCORE_ANY || lcore >= Mempool.MAX_LCORES) {
            throw new IllegalArgumentException("lcore " + lcore + " outside " + Mempool.LCORE_ANY
                    + ".." + (Mempool.MAX_LCORES - 1));
        }
        if (mtu < 0) {
            throw new IllegalArgumentException("MTU " + mtu + " is negative");
        }
        rxOffloads = DeviceInfo.frozen(rxOffloads, RxOffload.class);
        txOffloads = DeviceInfo.frozen(txOffloads, TxOffload.class);
    }

    public static PortConfig of(int rxQueues, int txQueues) {
        return new PortConfig(rxQueues, txQueues, null, 0, false, false, Mempool.LCORE_ANY,
                EnumSet.noneOf(RxOffload.class), EnumSet.noneOf(TxOffload.class));
    }

    public PortConfig withRss(RssConfig r) {
        return new PortConfig(rxQueues, txQueues, r, mtu, promiscuous, rxInterrupts, lcore, rxOffloads, txOffloads);
    }

    public PortConfig withMtu(int m) {
        return new PortConfig(rxQueues, txQueues, rss, m, promiscuous, rxInterrupts, lcore, rxOffloads, txOffloads);
    }

    public PortConfig withPromiscuous(boolean p) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, p, rxInterrupts, lcore, rxOffloads, txOffloads);
    }

    public PortConfig withRxInterrupts(boolean i) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, i, lcore, rxOffloads, txOffloads);
    }

    public PortConfig withLcore(int l) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, rxInterrupts, l, rxOffloads, txOffloads);
    }

    public PortConfig withRxOffloads(Set<RxOffload> o) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, rxInterrupts, lcore, o, txOffloads);
    }

    public PortConfig withTxOffloads(Set<TxOffload> o) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, rxInterrupts, lcore, rxOffloads, o);
    }

    /** The MTU the port runs with: {@link #mtu} or the 1500-byte default. */
    public int effectiveMtu() {
        return mtu == 0 ? 1500 : mtu;
    }
}
