package io.jnic.ethdev;

/**
 * What another process of the group needs, beside shared memory, to drive one queue pair of a port
 * (multi-process): the PCI BAR that holds the queue's doorbells, and descriptors of the device for the queue.
 * The descriptors stay owned by the port; whoever hands them over sends copies.
 *
 * @param bar      the BAR to hand over (its mappable parts), or -1 when the queue needs none
 * @param eventfds descriptors to hand over, in the order the driver's attach expects (e.g. virtio-user: RX kick,
 *                 TX kick, RX call, TX call); empty when none
 */
public record QueueAccess(int bar, int[] eventfds) {
    public QueueAccess {
        if (bar < -1 || bar > 5) {
            throw new IllegalArgumentException("BAR index " + bar + " outside 0..5 (or -1 for none)");
        }
        eventfds = eventfds.clone();
        if (bar < 0 && eventfds.length == 0) {
            throw new IllegalArgumentException("a queue reached through neither a BAR nor descriptors cannot be shared");
        }
    }

    @Override
    public int[] eventfds() {
        return eventfds.clone();
    }
}
