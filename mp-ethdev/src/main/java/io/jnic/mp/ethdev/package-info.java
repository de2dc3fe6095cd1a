/**
 * Ports shared by the processes of a group (DPDK's multi-process ethdev): the primary probes, configures
 * one RX/TX queue pair per process (RSS spreads flows over them) and starts the ports, then shares them with
 * {@link io.jnic.mp.ethdev.SharedPorts}; a secondary claims queue pair Q of port P in
 * {@link io.jnic.mp.ethdev.QueueOwners} (CAS with its pid; a second claimant is refused with the
 * owner's pid) and attaches it with {@link io.jnic.mp.ethdev.SecondaryQueues}: the primary hands over
 * what the transport needs to reach the queue's doorbells in one {@link io.jnic.mp.ethdev.AttachReply}:
 * the PCI transport's own description of how another process maps the BAR ({@link io.jnic.pci.PciDevice#handOverBar},
 * so nothing here names a transport), or the eventfds a virtual device lists ({@link io.jnic.ethdev.QueueAccess}), the
 * driver finds the rings and their state by name in shared memory ({@link io.jnic.ethdev.EthDriver#attachQueue},
 * {@link io.jnic.ethdev.VdevDriver#attachQueue}), and from then on the data path never involves the primary.
 * Virtual devices whose queues live in the primary's heap (net_null) are refused with the reason.
 *
 * <p>Interrupts reach only the primary: link changes are broadcast to every secondary
 * ({@link io.jnic.mp.ethdev.LinkListener}). A device that resets itself is re-initialised by its driver in
 * the primary (ixgbe: see io.jnic.driver.ixgbe): the secondaries' queue pairs are paused and resumed through a
 * generation number in each queue's shared state, which their bursts read with one plain load (no IPC on the
 * data path, no restart); {@value io.jnic.mp.ethdev.SharedPorts#ACTION_RESET} tells them, for their logs
 * ({@link io.jnic.mp.ethdev.ResetListener}), that it happened and how long it took. When a secondary dies the primary resets its queue pairs in
 * the device (returning the mbufs of their rings), reclaims the mbufs its lcores held, and frees the queues
 * for a restarted process. If the primary dies, secondaries keep forwarding on their queues: a vfio-user
 * device outlives its client (the server keeps device state and DMA maps), so ports of a server outside the
 * primary (a standalone devsim) keep running. Link and RX interrupts, recovery and memory hotplug are gone. A
 * process started with {@code --proc-type secondary} then joins the orphaned group and attaches its queue
 * pair through {@link io.jnic.mp.ethdev.OrphanAttach}: it opens the device itself by the name the primary
 * recorded ({@link io.jnic.pci.PciDevice#reopenName}, a vfio-user socket) and takes the same hand-over. Refused without a primary, with the reason: a queue
 * whose owner died after the primary (nobody can reset it), VFIO, UIO and virtio-user ports (only the primary
 * hands those over: it is the kernel's one VFIO group opener and holds the vhost-user connection), a server
 * that died with the primary. A new primary refuses to start while the old
 * group's secondaries run; stop them and start the group again.
 *
 * <p>Telemetry: {@link io.jnic.mp.ethdev.EthdevTelemetry} registers DPDK's ethdev commands ({@code /ethdev/list,
 * info, stats, xstats, link_status}) and {@code /jnic/queues} in the process's telemetry, and a Port MBean per port,
 * where the primary serves its port statistics and where a secondary joins (its counters come from the primary).
 *
 * <p>This module sits above multiproc and ethdev so that neither depends on the other.
 */
package io.jnic.mp.ethdev;
