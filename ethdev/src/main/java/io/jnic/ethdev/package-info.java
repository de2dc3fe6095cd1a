/**
 * The port API (DPDK's rte_ethdev in Java): {@link io.jnic.ethdev.EthDevice} is one port, which apps
 * configure, set up queues on, start, and drive with zero-allocation rx/tx bursts over
 * {@link io.jnic.memory.mbuf.MbufBatch}es; {@link io.jnic.ethdev.EthPorts} probes PCI devices with the
 * {@link io.jnic.ethdev.EthDriver} (ServiceLoader) that declares their ids, or creates virtual devices from
 * --vdev strings ({@link io.jnic.ethdev.VdevDriver}, e.g. net_null); {@link io.jnic.ethdev.PortTable} records
 * every port in a memzone of the memory group (driver name, device name, queue counts, MAC, MTU, link,
 * state) so that other processes see them. Shared memory holds no virtual address and no code.
 */
package io.jnic.ethdev;
