/**
 * Driver for Intel's 82599 family (82599, X520; X540 and X550 ids are taken with the same programming model):
 * {@link io.jnic.driver.ixgbe.IxgbeDriver} is the {@link io.jnic.ethdev.EthDriver} ServiceLoader finds,
 * {@link io.jnic.driver.ixgbe.IxgbeDevice} the port (init of datasheet 4.6.3, receive 4.6.7, transmit 4.6.8,
 * RSS, statistics, MSI-X), RxQueue/TxQueue the data path over descriptor rings in memzones. Sections cited are
 * those of the Intel 82599 10 GbE Controller Datasheet.
 */
package io.jnic.driver.ixgbe;
