package io.jnic.ethdev;

import java.util.Map;

/**
 * A virtual device driver (DPDK's --vdev), found through {@link java.util.ServiceLoader}
 * (META-INF/services/io.jnic.ethdev.VdevDriver). A vdev string is "{name}{instance}[,key=value...]", e.g.
 * "net_null0,size=64".
 */
public interface VdevDriver {
    /** The name prefix it answers to, e.g. "net_null". */
    String name();

    /** The keys {@link #create} accepts, for messages. */
    java.util.Set<String> keys();

    EthDevice create(String instanceName, Map<String, String> args, PortContext ctx);

    /**
     * Attaches queue pair {@code queue} of a virtual-device port another process created and started
     * (multi-process): rings and state by name in {@code ctx.memory()}, and the descriptors the creating process
     * handed over ({@link EthDevice#queueAccess}), which the returned queue owns (it closes them). Drivers that
     * cannot share queues throw.
     */
    default QueuePair attachQueue(PortContext ctx, int[] fds, int queue, int lcore) {
        throw new UnsupportedOperationException(name() + " cannot hand a queue to another process (its queues live in "
                + "the process that created the port)");
    }
}
