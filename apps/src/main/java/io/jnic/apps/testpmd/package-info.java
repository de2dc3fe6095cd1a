/**
 * testpmd: DPDK's dpdk-testpmd for jnic ports.
 *
 * <p>{@link io.jnic.apps.testpmd.TestPmd} parses DPDK's options (EAL, then {@code --} and testpmd's), sets up the
 * ports as a primary ({@link io.jnic.apps.testpmd.PrimaryPortSet}: probe, configure, start, share with secondaries)
 * or joins a group as a secondary ({@link io.jnic.apps.testpmd.SecondaryPortSet}: its share of queue pairs,
 * attached through mp-ethdev). {@link io.jnic.apps.testpmd.Forwarding} lays the streams out as DPDK does (for each
 * queue of this process, every forwarding port; the TX port from the topology), gives each forwarding lcore
 * ({@link io.jnic.apps.testpmd.FwdLcore}, a pinned or floating thread) a contiguous run of streams and prints the
 * statistics in DPDK's layout. The engines (io, mac, macswap, rxonly, txonly, flowgen) run on reusable batches and
 * templates ({@link io.jnic.apps.testpmd.UdpFrames}: checksums from precomputed one's-complement sums) and allocate
 * nothing per packet. {@link io.jnic.apps.testpmd.Commands} is the {@code testpmd>} command set and its grammar
 * (help and tab completion); {@link io.jnic.apps.testpmd.LineSource} reads the lines (JLine on a terminal, plain
 * echoed lines otherwise).
 *
 * <p>Counters: per stream, written only by the lcore that owns it (rx, tx, dropped when the TX queue refused a
 * packet, which is then freed, as testpmd without retry does); per port, the device's counters as differences from
 * the start of forwarding. In a multi-process group the port counters include every process's traffic, so the
 * per-stream block is always printed there.
 */
package io.jnic.apps.testpmd;
