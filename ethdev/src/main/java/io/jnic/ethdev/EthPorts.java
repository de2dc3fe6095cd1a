package io.jnic.ethdev;

import io.jnic.memory.MemoryGroup;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice;
import io.jnic.sys.Proc;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * This process's ports over one memory group (rte_eth_dev_* and rte_dev_probe / rte_vdev_init): probes PCI
 * devices with the {@link EthDriver} that declares their ids, creates virtual devices from --vdev strings,
 * and records every port in the group's {@link PortTable}.
 */
public final class EthPorts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EthPorts.class.getName());

    private final MemoryGroup memory;
    private final PortTable table;
    private final EthDevice[] ports = new EthDevice[PortTable.MAX_PORTS];
    private final List<EthDriver> pciDrivers = new ArrayList<>();
    private final Map<String, VdevDriver> vdevDrivers = new LinkedHashMap<>();

    public EthPorts(MemoryGroup memory) {
        this.memory = memory;
        this.table = PortTable.of(memory);
        for (EthDriver d : ServiceLoader.load(EthDriver.class)) {
            pciDrivers.add(d);
        }
        for (VdevDriver d : ServiceLoader.load(VdevDriver.class)) {
            vdevDrivers.put(d.name(), d);
        }
    }

    public MemoryGroup memory() {
        return memory;
    }

    public PortTable table() {
        return table;
    }

    public List<EthDriver> pciDrivers() {
        return List.copyOf(pciDrivers);
    }

    /** Probes {@code device} with the driver that takes its vendor/device id. */
    public synchronized EthDevice probe(PciDevice device) {
        int vendor = device.configRead(PciConfig.VENDOR_ID, 2);
        int dev = device.configRead(PciConfig.DEVICE_ID, 2);
        for (EthDriver d : pciDrivers) {
            for (EthDriver.PciId id : d.pciIds()) {
                if (id.matches(vendor, dev)) {
                    LOG.log(System.Logger.Level.INFO, "{0}: {1} takes {2}", device.name(), d.name(), id);
                    return register(device.name(), d.name(), ctx -> d.probe(device, ctx));
                }
            }
        }
        List<String> names = pciDrivers.stream().map(EthDriver::name).toList();
        throw new IllegalArgumentException(String.format("%s: no driver takes PCI id %04x:%04x (drivers on the class "
                + "path: %s)", device.name(), vendor, dev, names.isEmpty() ? "none" : names));
    }

    /** Creates a virtual device from a --vdev string such as "net_null0,size=64". */
    public synchronized EthDevice createVdev(String spec) {
        String[] parts = spec.trim().split(",");
        String instance = parts[0];
        VdevDriver drv = null;
        for (VdevDriver d : vdevDrivers.values()) {
            if (instance.startsWith(d.name()) && instance.substring(d.name().length()).matches("[0-9A-Za-z_]*")) {
                drv = d;
            }
        }
        if (drv == null) {
            throw new IllegalArgumentException("unknown virtual device '" + instance + "': known drivers are "
                    + (vdevDrivers.isEmpty() ? "none" : vdevDrivers.keySet()) + " (a vdev is named DRIVER + instance, e.g. "
                    + "net_null0)");
        }
        Map<String, String> args = new HashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            String k = eq < 0 ? parts[i] : parts[i].substring(0, eq);
            if (!drv.keys().contains(k)) {
                throw new IllegalArgumentException("vdev '" + spec + "': " + drv.name() + " has no option '" + k
                        + "' (it takes " + drv.keys() + ")");
            }
            args.put(k, eq < 0 ? "" : parts[i].substring(eq + 1));
        }
        for (EthDevice p : ports) {
            if (p != null && p.deviceName().equals(instance)) {
                throw new IllegalArgumentException("vdev '" + instance + "' already exists as " + p.name());
            }
        }
        VdevDriver d = drv;
        return register(instance, d.name(), ctx -> d.create(instance, args, ctx));
    }

    private EthDevice register(String deviceName, String driverName, java.util.function.Function<PortContext, EthDevice> f) {
        int id = table.allocate(driverName, deviceName, -1, Proc.getpid());
        EthDevice dev;
        try {
            dev = f.apply(new PortContext(id, memory, table));
        } catch (RuntimeException | Error e) {
            table.release(id);
            throw e;
        }
        ports[id] = dev;
        table.mac(id, dev.macAddress());
        return dev;
    }

    /** Port {@code id}; a clear error when there is none. */
    public synchronized EthDevice port(int id) {
        EthDevice d = id >= 0 && id < ports.length ? ports[id] : null;
        if (d == null || d.state() == PortState.CLOSED) {
            throw new IllegalArgumentException("no port " + id + " in this process; ports are " + ids());
        }
        return d;
    }

    public synchronized List<EthDevice> ports() {
        List<EthDevice> l = new ArrayList<>();
        for (EthDevice d : ports) {
            if (d != null && d.state() != PortState.CLOSED) {
                l.add(d);
            }
        }
        return l;
    }

    private List<Integer> ids() {
        return ports().stream().map(EthDevice::portId).toList();
    }

    @Override
    public synchronized void close() {
        for (int i = 0; i < ports.length; i++) {
            if (ports[i] != null) {
                try {
                    ports[i].close();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "closing port " + i + " failed", e);
                }
                ports[i] = null;
            }
        }
    }
}
