package io.jnic.multiproc;

import static io.jnic.multiproc.MpRuntime.STATUS_OK;

import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.multiproc.ipc.IpcStats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * The primary's IPC counters over IPC ({@link MpRuntime#ACTION_IPC_STATS}), for proc-info and the apps'
 * statistics: the primary answers with u32 status, u32 n, n x u64 (little-endian); a secondary asks and checks
 * the answer's length before it reads it.
 */
final class IpcStatsService {
    private IpcStatsService() {
    }

    /** The primary answers requests for its counters from now on. */
    static void serve(IpcChannel ipc) {
        ipc.register(MpRuntime.ACTION_IPC_STATS, (m, peer) -> answer(ipc, m, peer));
    }

    private static void answer(IpcChannel ipc, IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        long[] v = ipc.stats().values();
        ByteBuffer r = ByteBuffer.allocate(8 + 8 * v.length).order(ByteOrder.LITTLE_ENDIAN).putInt(STATUS_OK).putInt(v.length);
        for (long x : v) {
            r.putLong(x);
        }
        ipc.reply(peer, new IpcMessage(MpRuntime.ACTION_IPC_STATS, r.array()));
    }

    /**
     * A secondary asks its primary (pid {@code primaryPid}) for the counters.
     *
     * @throws MpException when it does not answer, or answers with a malformed message
     */
    static IpcStats ask(IpcChannel ipc, int primaryPid) {
        IpcReply r = ipc.requestSync(new IpcMessage(MpRuntime.ACTION_IPC_STATS), Duration.ofSeconds(3));
        if (r.nbReceived() == 0) {
            throw new MpException("the primary (pid " + primaryPid + ") did not answer a request for its IPC counters");
        }
        IpcMessage m = r.messages().getFirst();
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        int n = b.remaining() >= 8 && b.getInt() == STATUS_OK ? b.getInt() : -1;
        if (n < 0 || n > 64 || b.remaining() != 8 * n) {
            throw new MpException("the primary answered a request for its IPC counters with " + m.paramLength() + " bytes");
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = b.getLong();
        }
        return IpcStats.of(v);
    }
}
