/**
 * l2fwd-fork: a master (the primary) that starts l2fwd worker processes, notices when one dies and recovers
 * its queues (or its ports, with the workers on them) before starting a new one (DPDK's l2fwd_fork).
 */
package io.jnic.apps.l2fwdfork;
