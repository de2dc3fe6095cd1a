/**
 * The multi-process runtime, after DPDK's EAL: one primary and any number of secondaries per file prefix.
 *
 * <h2>Starting</h2>
 * Apps mix {@link io.jnic.multiproc.EalOptions} into their picocli command and run through
 * {@link io.jnic.multiproc.Eal#run}; {@link io.jnic.multiproc.MpRuntime#start} then creates or joins the
 * group. Options: {@code --proc-type primary|secondary|auto}, {@code --file-prefix}, {@code -l/--lcores},
 * {@code -m}, {@code --no-huge}, {@code --huge-dir}, {@code -a/--allow}, {@code -b/--block}, {@code --vdev},
 * {@code --log-level}, then {@code --} and the app's own options. How each role joins is in
 * {@code RuntimeStart}; the runtime dir's files and their cleanup in {@code RuntimeFiles}; a started process's
 * threads and lcore ids in {@code LcoreThreads}; registration and dead secondaries in {@code SecondaryRegistry};
 * memory hotplug in {@code MemoryHotplug}; the primary's IPC counters over IPC in {@code IpcStatsService}.
 *
 * <h2>The runtime dir</h2>
 * {@link io.jnic.multiproc.RuntimeDir}: {@code /var/run/jnic/<prefix>} (root) or
 * {@code $XDG_RUNTIME_DIR/jnic/<prefix>}, mode 0700, holding:
 * <ul>
 * <li>{@code lock} — the primary holds an exclusive flock on it for its lifetime and writes its pid in it;
 * {@code auto} becomes a secondary when the lock is taken, a secondary refuses to start when it is free.</li>
 * <li>{@code config} — {@link io.jnic.multiproc.SharedConfig}: magic, layout version, build id, primary pid
 * and the {@link io.jnic.multiproc.LcoreTable}; secondaries hold a shared flock on it, so that a new primary
 * can tell a dead group (clean it up) from a group whose secondaries still run (refuse).</li>
 * <li>{@code mp_socket}, {@code mp_socket_<pid>_<n>} — the IPC sockets
 * ({@link io.jnic.multiproc.ipc}).</li>
 * </ul>
 * Nothing is left behind. The last process of a group removes its files (config, lock, sockets, the memory's
 * header and segment files, the dir itself): the primary when it stops and no secondary holds the config, or
 * else the last secondary to leave once no primary runs (it takes the lock's exclusive flock first, so no
 * primary starts meanwhile; the config is marked ended, so one that waited to attach gives up). A failed
 * start, primary or secondary, removes what it made (its socket; and the group's files when no primary runs
 * and nobody uses them). The primary removes a dead secondary's socket when it recovers it; a starting
 * primary removes every secondary socket of a dead group, a starting secondary the sockets of dead pids. A
 * primary that waited on the lock of a group whose files were being removed starts over on the new lock.
 *
 * <h2>Memory</h2>
 * The primary creates the group's {@link io.jnic.memory.MemoryGroup} (same prefix, this runtime dir,
 * {@code -m}, {@code --no-huge}, {@code --huge-dir}); secondaries attach it. Any process reserves and looks
 * up named memzones ({@link io.jnic.multiproc.MpRuntime#reserve}, {@link io.jnic.multiproc.MpRuntime#lookup}).
 * When no segment has room, memory is added by DPDK's hotplug protocol: a secondary asks the primary
 * ({@code jnic.mp.mem.alloc}); the primary adds a segment, recorded pending (mappable, but no memzone is
 * reserved in it), sends {@code jnic.mp.mem.attach} (u32 segment id, u64 size, the segment's fd) to every
 * secondary as a synchronous request, and when all of them mapped it commits the segment (live) and answers. If
 * one fails or does not answer, the primary rolls back: it retires the segment
 * ({@link io.jnic.memory.MemoryGroup#retireSegment}: its table entry is marked retired, its mapping and file
 * go), sends {@code jnic.mp.mem.detach} (param: u32 segment id) to every secondary as a synchronous request
 * (each drops its mapping with {@link io.jnic.memory.MemoryGroup#detachSegment} and answers status 0 with
 * value 1 if it had mapped the segment), and answers the requester with the reasons and the outcome of the
 * rollback. No live new segment remains; a secondary that answers the attach late is refused (the entry is
 * retired) and drops nothing. Replies carry u32 status (0 ok, 1 refused), u32 value, text.
 *
 * <h2>Process tracking</h2>
 * A secondary registers with the primary over IPC ({@code jnic.mp.register}: pid, lcores; the kernel's
 * credentials must match the pid) and gets the runtime's proc id (the smallest free one; apps with a
 * {@code --proc-id} of their own, as l2fwd-mp, name their processes by theirs). Registration is the only action the primary serves to a process
 * that has not registered; every other one (memory hotplug, queue attach, statistics, anything an app
 * registers) is for registered members only, checked on the socket and the kernel's pid
 * ({@link io.jnic.multiproc.ipc.IpcChannel#admitMembers}), and the primary's broadcasts go only to members.
 * The primary's IPC counters ({@code jnic.mp.ipc.stats}: u32 status, u32 n, n x u64 in
 * {@link io.jnic.multiproc.ipc.IpcStats} order) are served to members:
 * {@link io.jnic.multiproc.MpRuntime#primaryIpcStats}. The primary watches each secondary's pidfd; when one
 * ends (exit, crash, kill -9) it runs the reclaimers (the objects in the dead lcores' mempool caches go back
 * to their pools), releases every lcore the pid held, removes its IPC socket (a dead process cannot) and then
 * runs the {@link io.jnic.multiproc.MpRuntime#onSecondaryExit} callbacks. Secondaries watch the primary's pidfd
 * ({@link io.jnic.multiproc.MpRuntime#onPrimaryExit}).
 */
package io.jnic.multiproc;
