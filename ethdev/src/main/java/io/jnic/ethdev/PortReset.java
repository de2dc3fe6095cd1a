package io.jnic.ethdev;

/**
 * A port's device reset itself and the driver re-initialises the port by itself ({@link EthDevice#addResetListener}).
 *
 * @param recovered    false when the reset was noticed (the queues are paused), true once the port runs again
 * @param elapsedNanos from noticing the reset to this event
 * @param description  one line for a log: what was seen and what was done
 */
public record PortReset(boolean recovered, long elapsedNanos, String description) {
}
