package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.vhost.VirtioUserArgs;
import io.jnic.driver.virtio.vhost.VirtioUserTransport;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.QueuePair;
import io.jnic.sys.Events;
import io.jnic.ethdev.VdevDriver;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code --vdev net_virtio_user0,path=SOCKET[,queues=N][,queue_size=N][,mac=..][,packed_vq=1][,in_order=0]}: a virtio-net port
 * whose device is a vhost-user backend (DPDK's name). {@code virtio_user0,...} is accepted too
 * ({@link Alias}). Connects to the backend when the port is created, so a missing backend is reported there.
 */
public class VirtioUserDriver implements VdevDriver {
    public static final String NAME = "net_virtio_user";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> keys() {
        return Set.of("path", "queues", "queue_size", "mac", "packed_vq", "in_order");
    }

    @Override
    public EthDevice create(String instanceName, Map<String, String> args, PortContext ctx) {
        Map<String, String> kv = new LinkedHashMap<>(args);
        VirtioUserArgs a = VirtioUserArgs.of(instanceName, instanceName, kv);
        VirtioUserTransport t = VirtioUserTransport.open(a, ctx.memory());
        try {
            return new VirtioEthDevice(instanceName, name(), t, ctx);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /**
     * A secondary's view of queue pair {@code queue} of a virtio-user port the primary started: rings and state by
     * name, the device kicked through {@code fds} = {RX kick, TX kick, RX call, TX call} eventfds the primary
     * handed over (the vhost-user connection stays in the primary). The queue owns the descriptors.
     */
    @Override
    public QueuePair attachQueue(PortContext ctx, int[] fds, int queue, int lcore) {
        if (fds.length != 4) {
            for (int fd : fds) {
                io.jnic.sys.Io.closeQuietly(fd);
            }
            throw new IllegalArgumentException("port " + ctx.portId() + ": a virtio-user queue pair is reached through 4 "
                    + "eventfds (RX kick, TX kick, RX call, TX call), " + fds.length + " were handed over");
        }
        int rxKick = fds[0];
        int txKick = fds[1];
        return VirtioSharedQueue.attach(ctx, queue, lcore, () -> Events.eventfdWrite(rxKick, 1),
                () -> Events.eventfdWrite(txKick, 1), fds.clone(), fds[2]);
    }

    /** "virtio_user0,...": the same driver under the name the vdev strings of older DPDK docs use. */
    public static final class Alias extends VirtioUserDriver {
        @Override
        public String name() {
            return "virtio_user";
        }
    }
}
