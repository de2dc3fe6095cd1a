package io.jnic.pci;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What sysfs says about one PCI function (read once by {@link PciSysfs#scan}): ids, class, the bound
 * driver, IOMMU group, NUMA node, and its resources (BARs).
 *
 * @param classCode 24 bits: base class, sub-class, programming interface
 * @param driver the bound driver's name, or null when none is bound
 * @param iommuGroup the IOMMU group number, or -1 when the device has none (no IOMMU)
 * @param numaNode the NUMA node, or -1 when the platform does not say
 */
public record PciDeviceInfo(PciAddress address, int vendorId, int deviceId, int subsystemVendorId,
        int subsystemDeviceId, int classCode, String driver, int iommuGroup, int numaNode,
        List<PciResource> resources, Path sysfsPath) {

    public PciDeviceInfo {
        resources = List.copyOf(resources);
    }

    public int baseClass() {
        return classCode >>> 16;
    }

    public boolean isNetwork() {
        return baseClass() == PciConfig.CLASS_NETWORK;
    }

    public Optional<String> driverName() {
        return Optional.ofNullable(driver);
    }

    public OptionalInt iommuGroupNumber() {
        return iommuGroup < 0 ? OptionalInt.empty() : OptionalInt.of(iommuGroup);
    }

    /** BAR {@code index} (0-5), or empty when the line is missing. */
    public Optional<PciResource> bar(int index) {
        return resources.stream().filter(r -> r.index() == index).findFirst();
    }

    /** "8086:10d3", as lspci -n prints it. */
    public String ids() {
        return String.format("%04x:%04x", vendorId, deviceId);
    }

    @Override
    public String toString() {
        return address + " " + ids() + " class " + String.format("%06x", classCode) + " driver="
                + (driver == null ? "none" : driver) + (iommuGroup >= 0 ? " iommu_group=" + iommuGroup : "");
    }
}
