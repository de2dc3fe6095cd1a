package io.jnic.pci;

import io.jnic.pci.uio.UioPciDevice;
import io.jnic.pci.vfio.VfioPciDevice;
import io.jnic.pci.vfiouser.VfioUserDevice;
import java.nio.file.Path;

/**
 * Opens a device by the name a user gives it, through the transport that reaches it: {@code vfio-user:SOCKET} (a
 * vfio-user server such as devsim), or a PCI address ({@code 0000:03:00.0}, trailing {@code ,ARGS} ignored) through
 * UIO when the device is bound to a UIO driver, else VFIO (whose error says how to bind it). The one place that
 * chooses among the transports, so that apps and drivers need not.
 */
public final class PciDevices {
    /** The prefix of a vfio-user device name: the server's socket follows it. */
    public static final String VFIO_USER_PREFIX = "vfio-user:";

    private PciDevices() {
    }

    /** The address part of a device name ("0000:03:00.0,ARGS", as {@code -a}/{@code -b} take it). */
    public static PciAddress address(String name) {
        int comma = name.indexOf(',');
        return PciAddress.parse(comma < 0 ? name : name.substring(0, comma));
    }

    public static PciDevice open(String name) {
        if (name.startsWith(VFIO_USER_PREFIX)) {
            return VfioUserDevice.connect(Path.of(name.substring(VFIO_USER_PREFIX.length())));
        }
        PciAddress a = address(name);
        String driver = new PciSysfs().driver(a);
        if (driver != null && UioPciDevice.UIO_DRIVERS.contains(driver)) {
            return UioPciDevice.open(a);
        }
        return VfioPciDevice.open(a);
    }
}
