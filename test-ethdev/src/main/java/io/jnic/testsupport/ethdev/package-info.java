/**
 * Test support above ethdev (module {@code test-ethdev}, artifact {@code jnic-test-ethdev}; the layout is described
 * in {@link io.jnic.testsupport}).
 *
 * <ul>
 *   <li>{@link io.jnic.testsupport.ethdev.EthDeviceConformance}: what every port must do, as JUnit tests. A driver's
 *       tests extend it and supply, in {@code open}, a fresh port of that driver and a
 *       {@link io.jnic.testsupport.ethdev.EthDeviceConformance.Bench} saying what its wire does: loops every frame
 *       back (ixgbe on a devsim loopback wire, virtio-user on DPDK's vhost backend in io mode) or makes and swallows
 *       frames by itself (net_null, whose run is this module's own test). What a port cannot do it must refuse,
 *       naming itself; the suite checks the refusal instead of skipping.</li>
 *   <li>{@link io.jnic.testsupport.ethdev.RegisterFileDevice}: a pretend 82599 whose BAR is plain memory, for the
 *       ixgbe tests that check register programming and for the benchmarks that time the driver alone.</li>
 * </ul>
 *
 * <p>Driver modules take this module with test scope; bench with compile scope and without JUnit, for
 * RegisterFileDevice. It is not part of any app jar.
 */
package io.jnic.testsupport.ethdev;
