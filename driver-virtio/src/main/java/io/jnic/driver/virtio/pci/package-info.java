/**
 * virtio over PCI (virtio 1.x, 4.1). {@link io.jnic.driver.virtio.pci.ModernPciTransport} is the modern interface:
 * it finds the common/notify/ISR/device structures through the vendor-specific capabilities (walked by
 * {@link io.jnic.pci.PciCapabilities}), accesses each register at its natural width through the BAR mapping
 * (VFIO and UIO map BARs), maps the memory group for DMA ({@link io.jnic.pci.PciDevice#dmaMap}) and routes
 * configuration-change interrupts to an eventfd through MSI-X vector 0. Behind an IOMMU the device must offer
 * VIRTIO_F_ACCESS_PLATFORM (QEMU: {@code iommu_platform=on}), which the driver accepts.
 *
 * <p>{@link io.jnic.driver.virtio.pci.LegacyPciTransport} is the legacy interface of transitional devices (4.1.4.8):
 * registers in I/O BAR0 reached with pread/pwrite ({@link io.jnic.pci.PciIoBar}: VFIO region or sysfs
 * {@code resourceN}), 32 feature bits, no FEATURES_OK, fixed queue sizes, rings in the legacy layout given as page
 * frames. A legacy device DMAs with physical addresses (it has no ACCESS_PLATFORM), so it needs a memory group in
 * IOVA mode PHYSICAL over UIO and over VFIO alike (with an IOMMU the pages are mapped 1:1); other modes are refused.
 * virtio-net over it needs MRG_RXBUF and ANY_LAYOUT (12-byte header, header and frame in one descriptor).
 * {@link io.jnic.driver.virtio.pci.VirtioPciTransports} picks one: modern when the capabilities are there, else
 * legacy, and logs the choice.
 *
 * <p>Both are exercised in the QEMU test bed by {@code driver-virtio/testbed-virtio.sh} (VFIO and UIO, frames both
 * ways, modern and legacy devices).
 */
package io.jnic.driver.virtio.pci;
