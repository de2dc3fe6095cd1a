/**
 * pktgen: a traffic generator and meter on jnic ports. {@link io.jnic.apps.pktgen.Pktgen} is the command line;
 * {@code Engine} owns the ports' TX settings and the worker threads ({@code Worker}: token-bucket paced TX,
 * metering RX); {@code Frames} writes and parses the IPv4/UDP frames and their 14-byte probe (magic 0x4A50,
 * stream = TX port << 4 | TX queue, epoch, 32-bit sequence number, 48-bit TX time); {@code StreamMeter} counts per
 * stream and RX thread (a window of 65536 sequence numbers for duplicates and reordering, an HdrHistogram of
 * latency); {@code Search} runs trials and the RFC 2544 binary search; {@code Console} is the interactive
 * console; {@code Plot} draws the results JSON as SVG. The data path allocates nothing: TX buffers come from a
 * pool zeroed once (frames are written header and probe only, so the UDP checksum is computed from the fields),
 * RX buffers go back after metering.
 */
package io.jnic.apps.pktgen;
