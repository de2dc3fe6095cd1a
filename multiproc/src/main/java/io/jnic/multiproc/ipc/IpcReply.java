package io.jnic.multiproc.ipc;

import java.util.List;

/**
 * The outcome of a request (rte_mp_reply): {@code nbSent} peers were asked (peers that answered IGN, having
 * no handler for the action, are not counted), {@code nbReceived} answered in time, and their answers.
 * The answers' descriptors belong to the caller.
 *
 * @param nbSent     peers that received the request and have a handler for it
 * @param nbReceived replies received before the timeout
 * @param messages   the replies, in arrival order
 */
public record IpcReply(int nbSent, int nbReceived, List<IpcMessage> messages) {
    public IpcReply {
        messages = List.copyOf(messages);
    }

    /** True when every peer that was asked answered. */
    public boolean complete() {
        return nbReceived == nbSent;
    }

    /** Closes every descriptor that came with the replies. */
    public void closeFds() {
        for (IpcMessage m : messages) {
            m.closeFds();
        }
    }
}
