package io.jnic.ethdev;

/**
 * What {@link EthDevice#configure} sets (rte_eth_conf, reduced to what jnic drivers implement).
 *
 * @param rss    null: no RSS (everything to queue 0)
 * @param mtu    0: the driver's default (1500)
 * @param rxInterrupts route per-queue RX interrupts so that {@link EthDevice#rxWait} can block
 * @param lcore  the lcore whose mempool cache the queues allocate and free through (the thread polling them);
 *               {@link io.jnic.memory.mbuf.Mempool#LCORE_ANY} (the default) goes to the pool's ring directly
 */
public record PortConfig(int rxQueues, int txQueues, RssConfig rss, int mtu, boolean promiscuous,
        boolean rxInterrupts, int lcore) {
    public PortConfig {
        if (rxQueues < 1 || txQueues < 1) {
            throw new IllegalArgumentException("a port needs at least one RX and one TX queue, got " + rxQueues + " RX, "
                    + txQueues + " TX");
        }
        if (lcore < io.jnic.memory.mbuf.Mempool.LCORE_ANY || lcore >= io.jnic.memory.mbuf.Mempool.MAX_LCORES) {
            throw new IllegalArgumentException("lcore " + lcore + " outside " + io.jnic.memory.mbuf.Mempool.LCORE_ANY
                    + ".." + (io.jnic.memory.mbuf.Mempool.MAX_LCORES - 1));
        }
        if (mtu < 0) {
            throw new IllegalArgumentException("MTU " + mtu + " is negative");
        }
    }

    public static PortConfig of(int rxQueues, int txQueues) {
        return new PortConfig(rxQueues, txQueues, null, 0, false, false, io.jnic.memory.mbuf.Mempool.LCORE_ANY);
    }

    public PortConfig withRss(RssConfig r) {
        return new PortConfig(rxQueues, txQueues, r, mtu, promiscuous, rxInterrupts, lcore);
    }

    public PortConfig withMtu(int m) {
        return new PortConfig(rxQueues, txQueues, rss, m, promiscuous, rxInterrupts, lcore);
    }

    public PortConfig withPromiscuous(boolean p) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, p, rxInterrupts, lcore);
    }

    public PortConfig withRxInterrupts(boolean i) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, i, lcore);
    }

    public PortConfig withLcore(int l) {
        return new PortConfig(rxQueues, txQueues, rss, mtu, promiscuous, rxInterrupts, l);
    }
}
