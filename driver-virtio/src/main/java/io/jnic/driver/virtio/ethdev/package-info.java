/**
 * The ethdev drivers for virtio-net, found by {@link java.util.ServiceLoader}:
 * {@link io.jnic.driver.virtio.ethdev.VirtioUserDriver} ({@code --vdev net_virtio_user0,path=SOCK[,queues=N]
 * [,queue_size=N][,mac=..][,packed_vq=1][,in_order=0]}, also {@code virtio_user0,...}) and
 * {@link io.jnic.driver.virtio.ethdev.VirtioPciDriver} ({@code net_virtio}, PCI ids 1af4:1041 and 1af4:1000,
 * modern interface). Both make a {@link io.jnic.driver.virtio.ethdev.VirtioEthDevice}: RX/TX queue n is the
 * device's queue pair n, the device is negotiated at start and reset at stop, mbufs carry the 12-byte
 * virtio-net header in their headroom ({@link io.jnic.driver.virtio.ethdev.MbufOps}).
 *
 * <p>Offloads ({@link io.jnic.driver.virtio.ethdev.VirtioOffloads}): TCP/UDP checksum and TSO on transmit and
 * checksum state and LRO on receive through the virtio-net header, receive scatter (MRG_RXBUF chains), multi-segment
 * transmit (indirect descriptor tables), VLAN filter (CTRL_VLAN), VLAN strip and insert done by the driver; each
 * offered only when the device offers what it needs, and negotiated only when configured. MTU up to the device's
 * (VIRTIO_NET_F_MTU) or 9698. Mbufs without 12 bytes of headroom, shared ones, and chains the port was not
 * configured for are dropped and counted in oerrors.
 *
 * <p>Not done: RSS configuration, RX interrupts over PCI (queues have no MSI-X vectors; over vhost-user
 * rxInterruptFd/Enable/Disable and rxWait use the backend's call eventfd).
 *
 * <p>Multi-process: a started port publishes what another process needs to drive one of its first 16 queue pairs
 * ({@link io.jnic.driver.virtio.ethdev.VirtioPortShare}: negotiated features, RX mempools, PCI notify offsets),
 * and says through {@code queueAccess} what to hand over (vhost-user: RX kick, TX kick, RX call, TX call eventfds;
 * PCI: the notify BAR). A secondary's {@link io.jnic.driver.virtio.ethdev.VirtioSharedQueue} resumes the pair's
 * rings from their shared state ({@link io.jnic.driver.virtio.VirtqueueState}) and arms RX interrupts in the
 * ring itself. {@code queuePairReset} after the driving process died keeps the device running (no per-queue
 * reset in virtio 1.1): returned-but-unconsumed and unpublished buffers are freed, posted ones stay posted and
 * become the primary's, and the primary's view of the pair is rebuilt. Proven over vhost-user against DPDK's
 * backend and over PCI through VFIO in the QEMU test bed ({@code mp-ethdev/testbed-mp-virtio.sh}); over UIO not
 * yet on a real kernel.
 */
package io.jnic.driver.virtio.ethdev;
