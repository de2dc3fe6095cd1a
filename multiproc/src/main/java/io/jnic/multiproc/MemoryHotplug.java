package io.jnic.multiproc;

import static io.jnic.multiproc.MpRuntime.STATUS_OK;
import static io.jnic.multiproc.MpRuntime.STATUS_REFUSED;

import io.jnic.memory.DmaSegment;
import io.jnic.memory.MemoryException;
import io.jnic.memory.MemoryGroup;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.sys.Proc;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory added to a running group (DPDK's rte_mp memory protocol): a secondary asks the primary for memory, the
 * primary adds a segment and has every secondary map it before anyone may use it, and rolls the segment back
 * when one cannot. The primary {@link #answerRequests answers} allocation requests; a secondary
 * {@link #followPrimary follows} its attach and detach requests.
 */
final class MemoryHotplug {
    static final String ACTION_MEM_ALLOC = "jnic.mp.mem.alloc";
    static final String ACTION_MEM_ATTACH = "jnic.mp.mem.attach";
    /** Rollback of a failed hotplug: drop the mapping of a segment the primary has retired. */
    static final String ACTION_MEM_DETACH = "jnic.mp.mem.detach";
    /** Smallest segment added when a reservation does not fit: 2 MB, one hugepage. */
    static final long MIN_GROWTH = 2L << 20;

    private static final System.Logger LOG = System.getLogger(MemoryHotplug.class.getName());

    private final MemoryGroup memory;
    private final IpcChannel ipc;
    private final String filePrefix;

    MemoryHotplug(MemoryGroup memory, IpcChannel ipc, String filePrefix) {
        this.memory = memory;
        this.ipc = ipc;
        this.filePrefix = filePrefix;
    }

    /** The primary: serves the secondaries' requests for memory on its IPC handler thread. */
    void answerRequests() {
        ipc.register(ACTION_MEM_ALLOC, this::onMemAlloc);
    }

    /** A secondary: maps (and on a rollback unmaps) the segments the primary adds. */
    static void followPrimary(MemoryGroup memory, IpcChannel ipc) {
        ipc.register(ACTION_MEM_ATTACH, (m, peer) -> onMemAttach(memory, ipc, m, peer));
        ipc.register(ACTION_MEM_DETACH, (m, peer) -> onMemDetach(memory, ipc, m, peer));
    }

    private static long timeoutMs() {
        return Long.getLong(MpRuntime.HOTPLUG_TIMEOUT_PROPERTY, 10_000);
    }

    /** A secondary: asks the primary to add at least {@code bytes} and returns the segment, mapped here too. */
    DmaSegment askPrimary(long bytes, int primaryPid) {
        ByteBuffer p = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(bytes);
        IpcReply r = ipc.requestSync(new IpcMessage(ACTION_MEM_ALLOC, p.array()), Duration.ofMillis(2 * timeoutMs() + 5000));
        if (r.nbReceived() == 0) {
            throw new MpException("the primary (pid " + primaryPid + ") did not answer a request for " + bytes
                    + " bytes of memory");
        }
        IpcMessage m = r.messages().getFirst();
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() < 8) {
            throw new MpException("the primary answered a memory request with " + b.remaining() + " bytes");
        }
        int status = b.getInt();
        int id = b.getInt();
        if (status != STATUS_OK) {
            byte[] why = new byte[b.remaining()];
            b.get(why);
            throw new MpException("the primary could not add memory: " + new String(why, StandardCharsets.UTF_8));
        }
        return memory.segment(id);
    }

    /**
     * A secondary, on its handler thread: the primary added a segment; map it (from the fd that came with the
     * request, or by name) and say whether that worked.
     */
    private static void onMemAttach(MemoryGroup memory, IpcChannel ipc, IpcMessage m, IpcPeer peer) {
        String error = null;
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != 12 || m.fdCount() > 1) {
            m.closeFds();
            error = "malformed attach request (" + p.remaining() + " bytes, " + m.fdCount() + " fds)";
        } else {
            int id = p.getInt();
            long size = p.getLong();
            try {
                DmaSegment seg = m.fdCount() == 1 ? memory.attachSegment(id, m.fd(0)) : memory.attachSegment(id);
                if (seg.size() != size) {
                    error = "segment " + id + " is " + seg.size() + " bytes here, the primary says " + size;
                }
            } catch (RuntimeException e) {
                error = "cannot map segment " + id + ": " + e.getMessage();
            }
        }
        if (error != null) {
            error = "secondary " + Proc.getpid() + ": " + error;
            LOG.log(System.Logger.Level.WARNING, "memory hotplug: {0}", error);
        }
        if (peer.isRequest()) {
            ipc.reply(peer, status(ACTION_MEM_ATTACH, error == null ? STATUS_OK : STATUS_REFUSED, -1,
                    error == null ? "" : error));
        }
    }

    /**
     * A secondary, on its handler thread: a hotplug was rolled back and the primary retired the segment; drop
     * this process's mapping of it (if it has one) and say whether that worked.
     */
    private static void onMemDetach(MemoryGroup memory, IpcChannel ipc, IpcMessage m, IpcPeer peer) {
        m.closeFds();
        String error = null;
        boolean hadIt = false;
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != 4) {
            error = "malformed detach request (" + p.remaining() + " bytes)";
        } else {
            int id = p.getInt();
            try {
                hadIt = memory.detachSegment(id);
            } catch (RuntimeException e) {
                error = "cannot detach segment " + id + ": " + e.getMessage();
            }
        }
        if (error != null) {
            error = "secondary " + Proc.getpid() + ": " + error;
            LOG.log(System.Logger.Level.WARNING, "memory hotplug rollback: {0}", error);
        }
        if (peer.isRequest()) {
            // value: 1 when this process had mapped the segment (the primary reports how many dropped it)
            ipc.reply(peer, status(ACTION_MEM_DETACH, error == null ? STATUS_OK : STATUS_REFUSED, hadIt ? 1 : 0,
                    error == null ? "" : error));
        }
    }

    /** The primary, on its handler thread: a secondary needs memory. */
    private void onMemAlloc(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        ByteBuffer p = m.paramBuffer();
        if (!peer.isRequest()) {
            return;
        }
        if (p.remaining() != 8) {
            ipc.reply(peer, status(ACTION_MEM_ALLOC, STATUS_REFUSED, -1, "malformed request of " + p.remaining() + " bytes"));
            return;
        }
        long bytes = p.getLong();
        try {
            DmaSegment seg = add(bytes);
            ipc.reply(peer, status(ACTION_MEM_ALLOC, STATUS_OK, seg.id(), ""));
        } catch (RuntimeException e) {
            ipc.reply(peer, status(ACTION_MEM_ALLOC, STATUS_REFUSED, -1, e.getMessage() == null ? e.toString() : e.getMessage()));
        }
    }

    private static IpcMessage status(String action, int status, int value, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer r = ByteBuffer.allocate(Math.min(IpcMessage.MAX_PARAM_LEN, 8 + t.length)).order(ByteOrder.LITTLE_ENDIAN);
        r.putInt(status).putInt(value).put(t, 0, r.remaining());
        return new IpcMessage(action, r.array());
    }

    /**
     * The primary adds a segment and has every secondary map it before anyone may use it: it is recorded
     * pending (no memzone is reserved in it), a synchronous request carries its fd to all secondaries, and
     * when all mapped it the primary commits it. One at a time.
     *
     * @throws MpException when a secondary could not map it or did not answer in time (naming them). The
     *                     hotplug is then rolled back: the primary retires the segment (its table entry is
     *                     marked retired, its file unlinked) and asks every secondary to drop its mapping, so
     *                     no live new segment remains; a secondary that answers the attach request late is
     *                     refused because the entry is retired.
     */
    synchronized DmaSegment add(long bytes) {
        DmaSegment seg;
        try {
            seg = memory.addPendingSegment(bytes); // no memzone lands in it before every secondary mapped it
        } catch (MemoryException e) {
            throw new MpException("cannot add " + bytes + " bytes of memory to file prefix '" + filePrefix + "': "
                    + e.getMessage(), e);
        }
        ByteBuffer p = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(seg.id()).putLong(seg.size());
        long timeoutMs = timeoutMs();
        IpcReply r = ipc.requestSync(new IpcMessage(ACTION_MEM_ATTACH, p.array(), seg.fd()), Duration.ofMillis(timeoutMs));
        List<String> failures = failures(r, timeoutMs);
        if (!failures.isEmpty()) {
            int id = seg.id();
            long size = seg.size();
            String rollback = rollBack(id, timeoutMs);
            throw new MpException("memory hotplug of segment " + id + " (" + size + " bytes) failed: "
                    + String.join("; ", failures) + ". " + rollback);
        }
        try {
            memory.commitSegment(seg.id());
        } catch (RuntimeException e) {
            throw new MpException("memory hotplug of segment " + seg.id() + ": cannot commit it: " + e.getMessage(), e);
        }
        LOG.log(System.Logger.Level.INFO, "added segment {0,number,#} ({1,number,#} bytes), mapped by {2} secondaries",
                seg.id(), seg.size(), r.nbReceived());
        return seg;
    }

    /**
     * Undoes a hotplug: retires segment {@code id} (still pending, so no memzone is in it) and has every
     * secondary drop its mapping.
     *
     * @return what happened, for the error message
     */
    private String rollBack(int id, long timeoutMs) {
        try {
            memory.retireSegment(id);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "memory hotplug rollback of segment " + id + " failed", e);
            return "Rolling back failed: " + e.getMessage();
        }
        ByteBuffer p = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(id);
        IpcReply r = ipc.requestSync(new IpcMessage(ACTION_MEM_DETACH, p.array()), Duration.ofMillis(timeoutMs));
        List<String> failures = failures(r, timeoutMs);
        int dropped = 0;
        for (IpcMessage m : r.messages()) {
            ByteBuffer b = m.paramBuffer();
            if (b.remaining() >= 8 && b.getInt() == STATUS_OK && b.getInt() == 1) {
                dropped++;
            }
        }
        String done = "Rolled back: segment " + id + " is retired, " + dropped + " secondary(ies) dropped their"
                + " mapping of it";
        if (failures.isEmpty()) {
            return done + ".";
        }
        LOG.log(System.Logger.Level.WARNING, "memory hotplug rollback of segment {0,number,#}: {1}", id,
                String.join("; ", failures));
        return done + "; detaching it: " + String.join("; ", failures) + " (one that did not answer drops its"
                + " mapping, if it has one, when it handles the request late or ends)";
    }

    /** The refusals in the answers to a hotplug request, and how many secondaries did not answer. */
    private static List<String> failures(IpcReply r, long timeoutMs) {
        List<String> failures = new ArrayList<>();
        for (IpcMessage m : r.messages()) {
            m.closeFds();
            ByteBuffer b = m.paramBuffer();
            if (b.remaining() < 8) {
                failures.add("a short answer of " + b.remaining() + " bytes");
            } else if (b.getInt() != STATUS_OK) {
                b.getInt();
                byte[] why = new byte[b.remaining()];
                b.get(why);
                failures.add(new String(why, StandardCharsets.UTF_8));
            }
        }
        if (r.nbReceived() < r.nbSent()) {
            failures.add((r.nbSent() - r.nbReceived()) + " of " + r.nbSent() + " secondaries did not answer within "
                    + timeoutMs + " ms");
        }
        return failures;
    }
}
