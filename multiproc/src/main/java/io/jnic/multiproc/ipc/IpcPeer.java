package io.jnic.multiproc.ipc;

/**
 * Who sent a message to an action handler, and whether it expects an answer: pass it to
 * {@link IpcChannel#reply} to answer a request (rte_mp_reply's peer).
 */
public final class IpcPeer {
    private final String socketPath;
    private final int pid;
    private final int uid;
    private final long requestId;
    private final boolean request;

    IpcPeer(String socketPath, int pid, int uid, long requestId, boolean request) {
        this.socketPath = socketPath;
        this.pid = pid;
        this.uid = uid;
        this.requestId = requestId;
        this.request = request;
    }

    /** The sender's socket path. */
    public String socketPath() {
        return socketPath;
    }

    /** The sender's pid, as the kernel reported it (SCM_CREDENTIALS). */
    public int pid() {
        return pid;
    }

    public int uid() {
        return uid;
    }

    /** True for a request (it waits for {@link IpcChannel#reply}), false for a one-way message. */
    public boolean isRequest() {
        return request;
    }

    long requestId() {
        return requestId;
    }

    @Override
    public String toString() {
        return "IpcPeer[pid " + pid + ", " + socketPath + (request ? ", request " + requestId : "") + "]";
    }
}
