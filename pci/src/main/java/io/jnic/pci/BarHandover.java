package io.jnic.pci;

/**
 * How another process maps the parts of a BAR that any process may map (an Ethernet port's queue doorbell pages):
 * a descriptor to send it (SCM_RIGHTS), and the areas, relative to the BAR, to mmap from that descriptor at
 * {@code regionOffset + area offset}. Each transport says how ({@link PciDevice#handOverBar}), so a layer that hands
 * queues to other processes needs to know none of them.
 *
 * @param transport      the device's transport, for messages
 * @param bar            the BAR index
 * @param barSize        the BAR's size in bytes
 * @param regionOffset   where the BAR starts in the descriptor's file
 * @param areas          {@code {offset, size}} of each mappable part, page-aligned, inside the BAR
 * @param fd             the descriptor to send
 * @param closeAfterSend true when the descriptor was opened for this hand-over and the sender closes it once sent;
 *                       false when the device owns it
 */
public record BarHandover(String transport, int bar, long barSize, long regionOffset, long[][] areas, int fd,
        boolean closeAfterSend) {
}
