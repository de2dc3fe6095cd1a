/** l2fwd-mp: multi-process l2fwd over ports shared by a primary and its secondaries (DPDK symmetric_mp). */
package io.jnic.apps.l2fwdmp;
