package io.jnic.multiproc;

import static io.jnic.multiproc.MpRuntime.STATUS_OK;
import static io.jnic.multiproc.MpRuntime.STATUS_REFUSED;

import io.jnic.memory.MemoryGroup;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.multiproc.ipc.RateLimitedLog;
import io.jnic.multiproc.telemetry.JnicEvents;
import io.jnic.multiproc.telemetry.TelemetryServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The primary's register of its secondaries: a secondary {@link #register registers} (its pid, checked against the
 * kernel's credentials, and its lcores) and gets a proc id; from then on its socket is a member of the channel. When
 * it leaves or dies (the pid watcher), what it held is reclaimed (its rings' holds, its mempool caches), its lcores
 * are released and the exit callbacks run.
 */
final class SecondaryRegistry {
    static final String ACTION_REGISTER = "jnic.mp.register";
    static final String ACTION_UNREGISTER = "jnic.mp.unregister";

    private static final System.Logger LOG = System.getLogger(SecondaryRegistry.class.getName());

    private final String filePrefix;
    private final int pid;
    private final SharedConfig config;
    private final MemoryGroup memory;
    private final IpcChannel ipc;
    private final PidWatcher watcher;
    private final Map<Integer, SecondaryInfo> secondaries = new ConcurrentHashMap<>();
    /** The IPC socket each registered secondary registered from. */
    private final Map<Integer, String> memberSockets = new ConcurrentHashMap<>();
    private final RateLimitedLog refusals = new RateLimitedLog(LOG);
    private final List<Consumer<SecondaryExit>> reclaimers = new CopyOnWriteArrayList<>();
    private final List<Consumer<SecondaryExit>> exitCallbacks = new CopyOnWriteArrayList<>();

    SecondaryRegistry(String filePrefix, int pid, SharedConfig config, MemoryGroup memory, IpcChannel ipc,
            PidWatcher watcher) {
        this.filePrefix = filePrefix;
        this.pid = pid;
        this.config = config;
        this.memory = memory;
        this.ipc = ipc;
        this.watcher = watcher;
    }

    /** The primary: takes registrations from any peer; everything else on the channel only from members. */
    void serve() {
        ipc.register(ACTION_REGISTER, IpcChannel.Access.ANY_PEER, this::onRegister);
        ipc.register(ACTION_UNREGISTER, this::onUnregister);
        ipc.admitMembers(this::isMember);
        reclaimers.add(this::flushMempoolCaches);
    }

    List<SecondaryInfo> list() {
        return List.copyOf(secondaries.values());
    }

    void onExit(Consumer<SecondaryExit> callback) {
        exitCallbacks.add(callback);
    }

    void addReclaimer(Consumer<SecondaryExit> reclaimer) {
        reclaimers.add(reclaimer);
    }

    /** A secondary registers with the primary: its pid and lcores; returns the proc id the primary gave it. */
    static int register(IpcChannel ipc, int pid, LcoreSet lcores, int primaryPid, String prefix) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(pid).putInt(-1);
        byte[] bits = lcores.toBitSet().toByteArray();
        b.put(bits, 0, Math.min(bits.length, 16));
        IpcReply reply = ipc.requestSync(new IpcMessage(ACTION_REGISTER, b.array()), MpRuntime.ATTACH_TIMEOUT);
        if (reply.nbReceived() == 0) {
            throw new MpException("the primary of file prefix '" + prefix + "' (pid " + primaryPid
                    + ") did not answer this secondary's registration within " + MpRuntime.ATTACH_TIMEOUT.toSeconds() + " s");
        }
        IpcMessage m = reply.messages().getFirst();
        m.closeFds();
        ByteBuffer r = m.paramBuffer();
        if (r.remaining() < 8) {
            throw new MpException("the primary answered the registration with a short reply (" + r.remaining() + " bytes)");
        }
        int status = r.getInt();
        int id = r.getInt();
        if (status != STATUS_OK) {
            byte[] why = new byte[r.remaining()];
            r.get(why);
            throw new MpException("the primary refused this secondary: " + new String(why, StandardCharsets.UTF_8));
        }
        return id;
    }

    private void onRegister(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != 24) {
            refuse(peer, "registration of " + p.remaining() + " bytes, expected 24");
            return;
        }
        int claimedPid = p.getInt();
        p.getInt(); // requested proc id: -1, any (reserved for apps that pick theirs)
        byte[] bits = new byte[16];
        p.get(bits);
        if (claimedPid != peer.pid()) {
            refuse(peer, "registration claims pid " + claimedPid + " but the kernel says it came from pid " + peer.pid());
            return;
        }
        if (claimedPid == pid) {
            refuse(peer, "pid " + claimedPid + " is the primary itself");
            return;
        }
        LcoreSet lc = LcoreSet.fromBitSet(BitSet.valueOf(bits));
        int id = 1;
        synchronized (secondaries) {
            SecondaryInfo old = secondaries.get(claimedPid);
            if (old != null) {
                id = old.procId();
            } else {
                while (isProcIdUsed(id)) {
                    id++;
                }
                secondaries.put(claimedPid, new SecondaryInfo(claimedPid, id, lc));
            }
        }
        memberSockets.put(claimedPid, peer.socketPath());
        if (secondaries.get(claimedPid) != null) {
            watcher.unwatch(claimedPid);
            watcher.watch(claimedPid, () -> secondaryGone(claimedPid, false));
        }
        ByteBuffer r = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(STATUS_OK).putInt(id);
        boolean told = ipc.reply(peer, new IpcMessage(ACTION_REGISTER, r.array()));
        LOG.log(System.Logger.Level.INFO, "secondary {0,number,#} registered: proc id {1}, lcores [{2}]{3}", claimedPid, id,
                lc, told ? "" : " (the answer was not delivered: its socket is gone or full)");
    }

    /** The primary's IPC channel asks (on its receive thread): is this a registered secondary's socket? */
    private boolean isMember(int spid, String socketPath) {
        return secondaries.containsKey(spid) && socketPath.equals(memberSockets.get(spid));
    }

    private boolean isProcIdUsed(int id) {
        for (SecondaryInfo s : secondaries.values()) {
            if (s.procId() == id) {
                return true;
            }
        }
        return false;
    }

    private void refuse(IpcPeer peer, String why) {
        refusals.log(System.Logger.Level.WARNING, "refused registration", () -> "refused registration from " + peer + ": "
                + why);
        byte[] text = why.getBytes(StandardCharsets.UTF_8);
        ByteBuffer r = ByteBuffer.allocate(Math.min(IpcMessage.MAX_PARAM_LEN, 8 + text.length)).order(ByteOrder.LITTLE_ENDIAN);
        r.putInt(STATUS_REFUSED).putInt(-1).put(text, 0, r.remaining());
        ipc.reply(peer, new IpcMessage(ACTION_REGISTER, r.array()));
    }

    private void onUnregister(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (watcher.unwatch(peer.pid())) {
            secondaryGone(peer.pid(), true);
        }
    }

    /** A secondary ended or detached: reclaim (mempool caches, ...), release its lcores, tell the callbacks. */
    private void secondaryGone(int spid, boolean detached) {
        SecondaryInfo info = secondaries.remove(spid);
        String socket = memberSockets.remove(spid);
        if (info == null) {
            return;
        }
        boolean socketRemoved = false;
        if (!detached && socket != null) {
            try {
                socketRemoved = Files.deleteIfExists(Path.of(socket)); // a dead process cannot remove its own
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot remove the IPC socket {0} of dead pid {1,number,#}: {2}", socket,
                        spid, e.getMessage());
            }
        }
        SecondaryExit pre = new SecondaryExit(info, config.lcores().heldBy(spid), detached);
        for (Consumer<SecondaryExit> r : reclaimers) {
            MpRuntime.runQuietly(() -> r.accept(pre));
        }
        LcoreSet released = config.lcores().releaseAll(spid);
        SecondaryExit exit = new SecondaryExit(info, released, detached);
        LOG.log(System.Logger.Level.INFO, "secondary {0,number,#} (proc id {1}) {2}; released lcores [{3}]{4}", spid,
                info.procId(), detached ? "left the group" : "ended without leaving (exit, crash or kill)",
                released.isEmpty() ? "none" : released, socketRemoved ? "; removed its IPC socket" : "");
        JnicEvents.processExit(spid, info.procId(), false, detached, released.toString());
        if (!detached) {
            TelemetryServer.removeStale(filePrefix); // the dead one's telemetry socket
        }
        for (Consumer<SecondaryExit> c : exitCallbacks) {
            MpRuntime.runQuietly(() -> c.accept(exit));
        }
    }

    /**
     * A secondary died: resolve the ring holds it left and move the objects in its lcores' mempool caches back to
     * each pool's free ring (before the lcores are released and another process may take them). Every memzone
     * that holds a ring or a mempool is looked at, also those this process never used.
     */
    private void flushMempoolCaches(SecondaryExit gone) {
        if (gone.detached() || gone.released().isEmpty()) {
            return; // a process that detached may still run its threads: only the dead are flushed
        }
        MemoryRecovery.recover(memory, gone.released(), "dead pid " + gone.secondary().pid());
    }
}
