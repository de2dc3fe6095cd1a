/**
 * Wires: what a simulated port is plugged into. {@link io.jnic.devsim.wire.PairWire} joins two ports,
 * {@link io.jnic.devsim.wire.LoopWire} returns a port's frames to it, {@link io.jnic.devsim.wire.GeneratorWire}
 * sends numbered frames over many flows and checks what comes back, {@link io.jnic.devsim.wire.TapWire} makes
 * a Linux TAP interface the peer, {@link io.jnic.devsim.wire.CableWire} joins ports of two devsim processes
 * (two hosts) through a shared-memory ring per direction, with delay, drop, duplicate and reorder faults. Frames
 * cross a wire without their FCS; the port adds the 4 bytes where sizes and counters need them.
 */
package io.jnic.devsim.wire;
