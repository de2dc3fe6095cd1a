package io.jnic.ethdev;

/** A rule installed on a port by {@link EthDevice#flowCreate}; {@code id} is the driver's filter slot. */
public record Flow(int port, int id, FlowRule rule) {
}
