/**
 * PCI for userspace drivers: addresses ({@link io.jnic.pci.PciAddress}), the kernel's sysfs view
 * ({@link io.jnic.pci.PciSysfs}, {@link io.jnic.pci.SysfsConfig}), capability lists over any transport's
 * config access ({@link io.jnic.pci.PciCapabilities}), driver binding as dpdk-devbind does it with the
 * refusal of devices this machine uses ({@link io.jnic.pci.PciDriverBinder},
 * {@link io.jnic.pci.DeviceUsage}), and the {@link io.jnic.pci.PciDevice} interface drivers program
 * against, with I/O-port BARs as {@link io.jnic.pci.PciIoBar} (a system call per access, for legacy devices).
 * Transports: {@code io.jnic.pci.vfio}, {@code io.jnic.pci.uio}, {@code io.jnic.pci.vfiouser}.
 */
package io.jnic.pci;
