/**
 * l2fwd-mp: multi-process l2fwd over ports shared by a primary and its secondaries (DPDK symmetric_mp).
 * {@link io.jnic.apps.l2fwdmp.L2fwdMp} is the command; the roles, the forwarding loop, port events and the stats
 * JSON have a class each.
 */
package io.jnic.apps.l2fwdmp;
