/**
 * Packet capture for a process group (DPDK's pdump library): the data path's hook ({@link
 * io.jnic.mp.ethdev.pdump.CaptureTap}), the switch in shared memory ({@link io.jnic.mp.ethdev.pdump.PdumpControl},
 * memzone {@code jnic.pdump.ctl}) and the primary's request handler ({@link io.jnic.mp.ethdev.pdump.PdumpService},
 * IPC action {@code jnic.pdump}).
 *
 * <p>How a capture runs: the pdump process (a secondary) creates or reuses the capture ring ({@code
 * jnic.pdump.ring}, multi-producer single-consumer) and pool ({@code jnic.pdump.pool}, no caches, 2048-byte data
 * rooms plus the record header), then asks the primary to switch the capture on for a port mask, a queue mask and
 * directions. The primary checks the request (ports and queues exist, ring and pool are there, no other capture is
 * on) and writes masks, snap length and its requester's pid, a new generation, then the {@code active} word. Each
 * forwarding thread's tap reads {@code active} once per burst; when set, it re-reads the settings if the generation
 * moved, copies each mbuf of a chosen (port, queue, direction) into a capture mbuf ({@link
 * io.jnic.mp.ethdev.pdump.CaptureRecord}) and enqueues the copies; what does not fit is dropped and counted. The
 * primary switches the capture off when asked, or when the requester ends (also SIGKILL).
 */
package io.jnic.mp.ethdev.pdump;
