/**
 * The ethdev drivers for virtio-net, found by {@link java.util.ServiceLoader}:
 * {@link io.jnic.driver.virtio.ethdev.VirtioUserDriver} ({@code --vdev net_virtio_user0,path=SOCK[,queues=N]
 * [,queue_size=N][,mac=..][,lcore=ID]}, also {@code virtio_user0,...}) and
 * {@link io.jnic.driver.virtio.ethdev.VirtioPciDriver} ({@code net_virtio}, PCI ids 1af4:1041 and 1af4:1000,
 * modern interface). Both make a {@link io.jnic.driver.virtio.ethdev.VirtioEthDevice}: RX/TX queue n is the
 * device's queue pair n, the device is negotiated at start and reset at stop, mbufs carry the 12-byte
 * virtio-net header in their headroom ({@link io.jnic.driver.virtio.ethdev.MbufOps}).
 *
 * <p>Not done: multi-segment transmit (such mbufs, and ones without 12 bytes of headroom or shared ones, are
 * dropped and counted in oerrors), offloads, RSS configuration, RX interrupts over PCI (queues have no MSI-X vectors; over vhost-user
 * rxInterruptFd/Enable/Disable and rxWait use the backend's call eventfd), MTU
 * above 1500, handing queues to secondary processes (the rings are in named memzones, but a secondary would
 * also need the kick eventfds or the notify BAR mapping).
 */
package io.jnic.driver.virtio.ethdev;
