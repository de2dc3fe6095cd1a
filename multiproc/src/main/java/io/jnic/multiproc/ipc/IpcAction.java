package io.jnic.multiproc.ipc;

/**
 * A handler for one named action (rte_mp_t). It runs on the channel's handler thread; it may answer a
 * request with {@link IpcChannel#reply}, and may itself send messages and make requests (replies are
 * read by another thread, so a handler can wait for them). Descriptors of {@code message} are its own.
 */
@FunctionalInterface
public interface IpcAction {
    void handle(IpcMessage message, IpcPeer peer);
}
