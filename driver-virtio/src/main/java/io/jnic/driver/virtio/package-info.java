/**
 * virtio core (Virtual I/O Device Specification 1.x): what every virtio device and transport share.
 *
 * <ul>
 *   <li>{@link io.jnic.driver.virtio.Virtio}: device status bits (2.1) and reserved feature bits (6), with names.</li>
 *   <li>{@link io.jnic.driver.virtio.VirtioTransport}: the seam to what carries a device: modern PCI
 *       ({@link io.jnic.driver.virtio.pci.ModernPciTransport}), legacy PCI
 *       ({@link io.jnic.driver.virtio.pci.LegacyPciTransport}: no FEATURES_OK, 32 feature bits) or vhost-user
 *       ({@link io.jnic.driver.virtio.vhost.VirtioUserTransport}).</li>
 *   <li>{@link io.jnic.driver.virtio.VirtioDevice}: the initialization sequence of 3.1.1 (reset, ACKNOWLEDGE,
 *       DRIVER, features, FEATURES_OK and its check, DRIVER_OK, FAILED, DEVICE_NEEDS_RESET).</li>
 *   <li>{@link io.jnic.driver.virtio.SplitVirtqueue}: the driver side of a split virtqueue (2.7) in DMA memory:
 *       free list kept privately, every used-ring entry checked (id, length, used index), notification
 *       suppression both ways with or without VIRTIO_F_EVENT_IDX, 16-bit index wrap-around; also in the legacy
 *       layout (used ring 4096-aligned) for legacy PCI. With VIRTIO_F_IN_ORDER (2.7.9, chosen at queue setup) a
 *       fixed descriptor per ring position and no free list; one used entry may return a batch. Bursts: one
 *       used->idx read, one avail->idx publication and one notification check per burst.</li>
 *   <li>{@link io.jnic.driver.virtio.PackedVirtqueue}: the driver side of a packed virtqueue (2.8): AVAIL/USED
 *       flags against both wrap counters, buffer ids of our own, chains skipped as the device skips them, every
 *       used descriptor checked, driver/device event suppression (ENABLE, DISABLE, DESC with EVENT_IDX); in order
 *       with VIRTIO_F_IN_ORDER (buffer id = position, one used descriptor may return a batch).
 *       Negotiated over virtio-user when asked ({@code packed_vq=1}) and over modern PCI whenever the device offers
 *       it (QEMU's {@code packed=on}), as DPDK's PMD does; legacy PCI cannot carry it.</li>
 *   <li>{@link io.jnic.driver.virtio.Virtqueue}: what the two have in common, all device drivers use.</li>
 * </ul>
 *
 * <p>Indirect descriptors (VIRTIO_F_INDIRECT_DESC): {@link io.jnic.driver.virtio.Virtqueue#addIndirect} puts a
 * buffer's pieces in a per-slot table (split: split-format descriptors chained by NEXT; packed: packed-format ones
 * in sequence), so a many-piece buffer takes one ring slot even in order and with shared state.
 *
 * <p>Not implemented: NOTIFICATION_DATA. Queues run in poll mode; interrupt suppression is requested on every
 * queue.
 *
 * <p>Sub-packages: {@code net} (virtio-net, 5.1), {@code vhost} (vhost-user frontend, "virtio-user"),
 * {@code pci} (virtio over PCI, 4.1), {@code tools} (VirtioUserPerf, the benchmark's frontend).
 */
package io.jnic.driver.virtio;
