/**
 * What the multi-process apps share: command-line preparation ({@link io.jnic.apps.common.AppArgs}), port masks
 * ({@link io.jnic.apps.common.PortMask}), the simulated ports a primary runs when no device is given
 * ({@link io.jnic.apps.common.SimulatedPorts}) and the primary's port setup ({@link io.jnic.apps.common.PrimaryPorts}).
 */
package io.jnic.apps.common;
