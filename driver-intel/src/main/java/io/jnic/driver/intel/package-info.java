/**
 * The Intel advanced-descriptor queue kit: what an Intel driver with the 82599's descriptor formats (ixgbe here;
 * igb and e1000e have the same advanced descriptors) needs for its data path, written once.
 * <ul>
 * <li>{@link io.jnic.driver.intel.AdvDescriptors}: the read and write-back formats (82599 datasheet 7.1.6, 7.2.3).</li>
 * <li>{@link io.jnic.driver.intel.QueueMemory}: one queue's memzone (state block, descriptor ring, software ring) and
 * the layout of its shared state, which another process attaches by name;
 * {@link io.jnic.driver.intel.QueueGeneration} the handshake with which the port owner pauses a queue another
 * process drives while it re-initialises the port.</li>
 * <li>{@link io.jnic.driver.intel.RxQueue} and {@link io.jnic.driver.intel.TxQueue}: the bursts, with every value
 * the device wrote checked before use; {@link io.jnic.driver.intel.RxOffloads} and
 * {@link io.jnic.driver.intel.TxContext} the offload decoding and context descriptors;
 * {@link io.jnic.driver.intel.IntelQueuePair} the ethdev queue pair over both.</li>
 * </ul>
 * What is the device's stays with the driver: the register offsets (a queue takes its mapped tail register), the
 * initialisation sequence, and where IEEE 1588 stamps are read ({@link io.jnic.driver.intel.RxTimestamps}).
 */
package io.jnic.driver.intel;
