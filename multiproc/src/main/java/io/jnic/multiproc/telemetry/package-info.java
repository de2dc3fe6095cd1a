/**
 * Telemetry of a jnic process: DPDK's telemetry v2 protocol, JMX MBeans and JFR events.
 *
 * <h2>Telemetry v2 (dpdk-telemetry.py)</h2>
 * Every process started by {@link io.jnic.multiproc.MpRuntime} serves ({@link
 * io.jnic.multiproc.telemetry.TelemetryServer}, unless {@code --no-telemetry}) a UNIX {@code SOCK_SEQPACKET}
 * socket where DPDK's script looks for file prefix {@code P}: {@code <runtime>/dpdk/P/dpdk_telemetry.v2} for the
 * primary, {@code dpdk_telemetry.v2:<n>} for a secondary ({@code -i n}, n its proc id when free), {@code <runtime>}
 * being {@code $RUNTIME_DIRECTORY}, else {@code /var/run} (root), else {@code $XDG_RUNTIME_DIR} or {@code /tmp}.
 * The socket is the process's own (no link into jnic's runtime dir {@code /var/run/jnic/P}, which stays 0700), made
 * at start and removed at close; the primary removes the socket of a secondary that was killed. On connect the
 * client gets {@code {"version":"jnic ...","pid":N,"max_output_len":16384}}; each message {@code cmd[,params]} is
 * answered with {@code {"cmd":value}} (unknown commands and bad parameters: {@code {"cmd":null}}).
 *
 * <p>Commands ({@link io.jnic.multiproc.telemetry.Telemetry#register}, DPDK's key names): {@code /}, {@code /help},
 * {@code /info}, {@code /eal/params}, {@code /eal/app_params}, {@code /mempool/list}, {@code /mempool/info,NAME},
 * {@code /jnic/procs} (pid, proc id, type, lcores, alive of every process) from here; {@code /ethdev/list},
 * {@code /ethdev/info,P}, {@code /ethdev/stats,P}, {@code /ethdev/xstats,P[,hide_zero=true]},
 * {@code /ethdev/link_status,P} and {@code /jnic/queues} from mp-ethdev once ports are shared; {@code /jnic/pdump}
 * from the capture service.
 *
 * <h2>JMX</h2>
 * The same dictionaries as MBeans on the platform MBean server, attributes read at each access:
 * {@code io.jnic:type=Process,prefix="P",pid=N}, {@code io.jnic:type=Port,prefix="P",port=N},
 * {@code io.jnic:type=Mempool,prefix="P",name="X"}; removed when the runtime closes.
 *
 * <h2>JFR</h2>
 * {@link io.jnic.multiproc.telemetry.JnicEvents}: {@code io.jnic.LinkChange}, {@code io.jnic.QueueReset},
 * {@code io.jnic.Recovery}, {@code io.jnic.ProcessExit}, committed where the runtime logs those facts.
 */
package io.jnic.multiproc.telemetry;
