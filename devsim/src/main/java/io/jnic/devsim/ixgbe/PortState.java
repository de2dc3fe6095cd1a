package io.jnic.devsim.ixgbe;

/**
 * The port-wide switches its receive and transmit paths obey: link up (LINKS.LINK_UP as the data path sees it),
 * a reset in progress (CTRL.RST until the device's next turn) and PCI Bus Master Enable (no DMA without it).
 * Written by {@link Ixgbe82599} and read by the engines, all under the port's monitor.
 */
final class PortState {
    /** Mirrors the link model's state for the data path; a reset clears it without an LSC. */
    boolean linkUp;
    boolean resetting;
    /** PCI command register Bus Master Enable; the raw model starts enabled. */
    boolean busMaster = true;
}
