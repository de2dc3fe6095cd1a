package io.jnic.ethdev;

/** Life cycle of a port, as recorded in the port table. */
public enum PortState {
    FREE, PROBED, CONFIGURED, STARTED, STOPPED, CLOSED
}
