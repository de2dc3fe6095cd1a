/**
 * VFIO transport (include/uapi/linux/vfio.h): {@link io.jnic.pci.vfio.VfioContainer} (IOMMU context, DMA
 * map), {@link io.jnic.pci.vfio.VfioGroup}, and {@link io.jnic.pci.vfio.VfioPciDevice} (regions, BAR mmap,
 * config, IRQs to eventfds, reset). Fds can be handed to another process and adopted with
 * {@link io.jnic.pci.vfio.VfioPciDevice#fromFds}. Exercised against a real kernel by testbed/run.sh.
 */
package io.jnic.pci.vfio;
