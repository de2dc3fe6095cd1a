package io.jnic.apps.testpmd;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueuePair;
import java.util.Map;

/**
 * The ports as testpmd sees them: in the primary, the devices it probed and started; in a secondary, the primary's
 * started ports with the queue pairs this process attached. Control operations a secondary cannot do throw
 * {@link UnsupportedOperationException} with the reason.
 */
abstract class PortSet implements AutoCloseable {
    /** This process's queue pairs of every port: [firstQueue, firstQueue + queues). */
    abstract int firstQueue();

    abstract int queues();

    /** Port ids, ascending. */
    abstract int[] ids();

    final boolean exists(int p) {
        for (int id : ids()) {
            if (id == p) {
                return true;
            }
        }
        return false;
    }

    abstract boolean primary();

    abstract String deviceName(int p);

    abstract String driverName(int p);

    abstract MacAddress mac(int p);

    abstract LinkStatus link(int p);

    abstract int mtu(int p);

    abstract int rxQueues(int p);

    abstract int txQueues(int p);

    abstract int rxDescriptors();

    abstract int txDescriptors();

    /** Max RX/TX queues of the device, or -1 when unknown here. */
    abstract int maxRxQueues(int p);

    abstract int maxTxQueues(int p);

    abstract boolean started(int p);

    abstract void stop(int p);

    abstract void start(int p);

    abstract boolean promiscuous(int p);

    abstract void promiscuous(int p, boolean on);

    /** Port {@code p}'s device for the port control commands; null where this process does not own it. */
    io.jnic.ethdev.EthDevice device(int p) {
        return null;
    }

    /** Sets RX queue {@code q} of stopped port {@code p} up again with {@code offloads} of its own. */
    void rxQueueSetup(int p, int q, java.util.Set<io.jnic.ethdev.RxOffload> offloads) {
        throw new UnsupportedOperationException(SecondaryPortSet.PRIMARY_ONLY);
    }

    /** Sets TX queue {@code q} of stopped port {@code p} up again with {@code offloads} of its own. */
    void txQueueSetup(int p, int q, java.util.Set<io.jnic.ethdev.TxOffload> offloads) {
        throw new UnsupportedOperationException(SecondaryPortSet.PRIMARY_ONLY);
    }

    abstract void stats(int p, PortStats into);

    abstract Map<String, Long> xstats(int p);

    abstract void clearStats(int p);

    /** The data path of queue pair {@code q} (one of this process's) of port {@code p}. */
    abstract QueuePair queue(int p, int q);

    @Override
    public abstract void close();
}
