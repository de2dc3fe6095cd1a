/**
 * virtio over PCI (virtio 1.x, 4.1), "modern" interface only: {@link io.jnic.driver.virtio.pci.ModernPciTransport}
 * finds the common/notify/ISR/device structures through the vendor-specific capabilities (walked by
 * {@link io.jnic.pci.PciCapabilities}), accesses each register at its natural width through the BAR mapping
 * (VFIO and UIO map BARs), maps the memory group for DMA ({@link io.jnic.pci.PciDevice#dmaMap}) and routes
 * configuration-change interrupts to an eventfd through MSI-X vector 0. Behind an IOMMU the device must offer
 * VIRTIO_F_ACCESS_PLATFORM (QEMU: {@code iommu_platform=on}), which the driver accepts.
 *
 * <p>Exercised in the QEMU test bed by {@code driver-virtio/testbed-virtio.sh} (VFIO and UIO, frames both ways);
 * the legacy I/O-BAR interface is not implemented.
 */
package io.jnic.driver.virtio.pci;
