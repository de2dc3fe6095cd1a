package io.jnic.apps.common;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.pci.PciDevice;
import io.jnic.pci.PciDevices;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The primary's ports: probed from PCI devices ("vfio-user:socket" or a PCI address bound to vfio-pci or
 * uio_pci_generic) and vdevs, in that order (port ids follow), then configured and started with the queues the
 * app asks for.
 */
public final class PrimaryPorts {
    private static final Duration LINK_WAIT = Duration.ofSeconds(10);

    private final List<EthDevice> devices = new ArrayList<>();
    private final Map<EthDevice, PciDevice> shared = new LinkedHashMap<>();

    private PrimaryPorts() {
    }

    /** Probes {@code pciDevices} then creates {@code vdevs}; on failure closes what it opened. */
    public static PrimaryPorts probe(EthPorts ports, List<String> pciDevices, List<String> vdevs) {
        PrimaryPorts pp = new PrimaryPorts();
        try {
            for (String d : pciDevices) {
                PciDevice pci = PciDevices.open(d);
                EthDevice dev;
                try {
                    dev = ports.probe(pci);
                } catch (RuntimeException e) {
                    pci.close();
                    throw e;
                }
                pp.devices.add(dev);
                pp.shared.put(dev, pci);
            }
            for (String v : vdevs) {
                EthDevice dev = ports.createVdev(v);
                pp.devices.add(dev);
                pp.shared.put(dev, null); // virtual: the port says what secondaries need (or refuses them)
            }
            return pp;
        } catch (RuntimeException e) {
            pp.close();
            throw e;
        }
    }

    /** The ports, indexed by port id. */
    public List<EthDevice> devices() {
        return Collections.unmodifiableList(devices);
    }

    /** Every port with its PCI device (null for a virtual device), as {@code SharedPorts.serve} takes them. */
    public Map<EthDevice, PciDevice> shared() {
        return Collections.unmodifiableMap(shared);
    }

    /**
     * Configures every port with {@code rxQueues}/{@code txQueues} queues of {@code ring} descriptors (RX buffers
     * from {@code pool}), RSS over all hash types when {@code rss} and the device has RSS, promiscuous, starts them and prints one line
     * per port. Ports with an interrupt for every RX queue get them routed (nothing is armed until a queue's owner asks
     * to sleep).
     */
    public void start(int rxQueues, int txQueues, int ring, Mempool pool, boolean rss, PrintStream out) {
        start(rxQueues, txQueues, ring, pool, rss, 0, false, out);
    }

    /**
     * As above, with MTU {@code mtu} (0: the ports' default) and, with {@code chains}, frames larger than one of
     * the pool's buffers received and sent as mbuf chains (RX offload SCATTER, TX offload MULTI_SEGS).
     */
    public void start(int rxQueues, int txQueues, int ring, Mempool pool, boolean rss, int mtu, boolean chains,
            PrintStream out) {
        for (EthDevice d : devices) {
            PortConfig c = PortConfig.of(rxQueues, txQueues).withPromiscuous(true);
            if (mtu > 0) {
                c = c.withMtu(mtu);
            }
            if (chains) {
                c = c.withRxOffloads(EnumSet.of(RxOffload.SCATTER)).withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS));
            }
            if (rss && !d.info().rssHashTypes().isEmpty()) { // virtio without RSS: the device spreads flows itself
                c = c.withRss(RssConfig.of(EnumSet.allOf(RssHashType.class)));
            }
            if (d.info().rxInterruptQueues() >= rxQueues) { // each queue may sleep on its own interrupt (--idle)
                c = c.withRxInterrupts(true);
            }
            d.configure(c);
            for (int q = 0; q < rxQueues; q++) {
                d.rxQueueSetup(q, ring, pool);
            }
            for (int q = 0; q < txQueues; q++) {
                d.txQueueSetup(q, ring);
            }
            d.start();
            d.promiscuous(true);
            out.println("port " + d.portId() + ": " + d.deviceName() + " (" + d.info().driverName() + "), MAC "
                    + d.macAddress() + ", " + rxQueues + " RX / " + txQueues + " TX queue(s), link " + d.waitLink(LINK_WAIT));
        }
    }

    /** Stops every port: each ring's mbufs go back to their pool, whichever process drove the queue. */
    public void stop() {
        for (EthDevice d : devices) {
            d.stop();
        }
    }

    /** Closes every port (and the PCI devices under them). */
    public void close() {
        for (EthDevice d : devices) {
            try {
                d.close();
            } catch (RuntimeException e) {
                System.getLogger(PrimaryPorts.class.getName()).log(System.Logger.Level.WARNING,
                        "closing " + d.name() + " failed", e);
            }
        }
        devices.clear();
        shared.clear();
    }
}
