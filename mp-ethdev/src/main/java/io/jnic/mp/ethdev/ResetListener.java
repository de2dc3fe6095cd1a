package io.jnic.mp.ethdev;

import io.jnic.ethdev.PortReset;

/**
 * A shared port's device reset itself and the primary re-initialises it ({@link io.jnic.ethdev.EthDevice#addResetListener}).
 * The queues of every process are paused and resumed through their shared state, without this event: it is for
 * logs and counters.
 */
@FunctionalInterface
public interface ResetListener {
    /**
     * @param port        the port id
     * @param reset       what happened (in a secondary, the description is made from the primary's broadcast)
     * @param seenAtNanos when the primary sent it, in {@link System#nanoTime()} of the primary (CLOCK_MONOTONIC)
     */
    void onReset(int port, PortReset reset, long seenAtNanos);
}
