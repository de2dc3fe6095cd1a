/**
 * mp-server and mp-client: DPDK's examples/multi_process/client_server_mp. The server (primary) receives on
 * queue 0 of every port and distributes bursts round-robin to one ring per client; each client (a secondary
 * that needs only its id) transmits on its own queue pair of every port, to the port paired with the one a
 * packet came in on. Port info, client rings and every counter live in shared memory
 * ({@link io.jnic.apps.clientserver.PortInfo}).
 */
package io.jnic.apps.clientserver;
