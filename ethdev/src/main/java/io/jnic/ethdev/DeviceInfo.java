package io.jnic.ethdev;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a port can do (rte_eth_dev_info): queue limits, ring-size rules, RSS table sizes, MTU range, offloads.
 *
 * @param ringAlign         ring sizes must be multiples of this (the 82599 needs 8 descriptors = 128 bytes)
 * @param rxInterruptQueues how many RX queues can each have an interrupt of their own here
 *                          ({@link PortConfig#withRxInterrupts}): 0 when this process's access to the device gives
 *                          none (an 82599 over UIO has INTx only, virtio over PCI runs without MSI-X vectors)
 * @param rxOffloads        receive offloads the port can do ({@link PortConfig#withRxOffloads})
 * @param txOffloads        transmit offloads the port can do ({@link PortConfig#withTxOffloads})
 * @param rxQueueOffloads   the receive offloads one queue may enable without the others
 *                          ({@link EthDevice#rxQueueSetup(int, int, io.jnic.memory.mbuf.Mempool, Set)}; DPDK's
 *                          rx_queue_offload_capa): a subset of {@code rxOffloads}, the rest is port-wide
 * @param txQueueOffloads   the transmit offloads one queue may enable without the others (tx_queue_offload_capa)
 */
public record DeviceInfo(String driverName, int maxRxQueues, int maxTxQueues, int minRing, int maxRing, int ringAlign,
        int retaSize, int rssKeySize, Set<RssHashType> rssHashTypes, int minMtu, int maxMtu, int maxRxPacket,
        int rxInterruptQueues, Set<RxOffload> rxOffloads, Set<TxOffload> txOffloads, Set<RxOffload> rxQueueOffloads,
        Set<TxOffload> txQueueOffloads) {
    public DeviceInfo {
        rssHashTypes = frozen(rssHashTypes, RssHashType.class);
        rxOffloads = frozen(rxOffloads, RxOffload.class);
        txOffloads = frozen(txOffloads, TxOffload.class);
        rxQueueOffloads = frozen(rxQueueOffloads, RxOffload.class);
        txQueueOffloads = frozen(txQueueOffloads, TxOffload.class);
        if (!rxOffloads.containsAll(rxQueueOffloads) || !txOffloads.containsAll(txQueueOffloads)) {
            throw new IllegalArgumentException(driverName + ": per-queue offloads " + rxQueueOffloads + " / "
                    + txQueueOffloads + " must be among the port's " + rxOffloads + " / " + txOffloads);
        }
    }

    /** An unmodifiable copy that lists in declaration order (for messages). */
    static <E extends Enum<E>> Set<E> frozen(Set<E> s, Class<E> type) {
        EnumSet<E> copy = EnumSet.noneOf(type);
        copy.addAll(s);
        return Collections.unmodifiableSet(copy);
    }
}
