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
}
