package io.jnic.mp.ethdev;

import io.jnic.ethdev.LinkStatus;

/** A link change of a shared port, as the primary's interrupt thread saw it. */
@FunctionalInterface
public interface LinkListener {
    /**
     * @param port        the port id
     * @param link        the new status
     * @param seenAtNanos when the primary handled the interrupt, in {@link System#nanoTime()} of the primary
     *                    (CLOCK_MONOTONIC, comparable between processes of one machine)
     */
    void onLink(int port, LinkStatus link, long seenAtNanos);
}
