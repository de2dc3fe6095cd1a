package io.jnic.ethdev;

import io.jnic.memory.mbuf.MbufBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * One RX/TX queue pair of a port, as the process that drives it sees it: the port's own process
 * ({@link EthDevice#queuePair}) or another process of the group that attached it ({@link EthDriver#attachQueue},
 * through mp-ethdev). Either way the bursts go straight to the driver's queues, so an app forwards through the
 * same object, at the same cost, in whatever process it runs.
 *
 * <p>Bursts behave as {@link EthDevice#rxBurst}/{@link EthDevice#txBurst} on this queue; one thread at a time.
 */
public abstract class QueuePair implements AutoCloseable {
    /**
     * How this process reaches the queue's RX interrupt when the driver cannot from here (an attached queue whose
     * interrupt only the port's owner can arm asks it over IPC).
     */
    public interface RxInterruptRoute {
        /** The eventfd the interrupt increments, owned by the route (closed with the queue pair). */
        int fd();

        /** Arms the interrupt once; false, left unarmed, when a packet is already waiting. */
        boolean enable();

        /** Closes what the route holds. */
        void close();
    }

    private final int portId;
    private final int queue;
    private final List<Runnable> onClose = new ArrayList<>(1);
    private RxInterruptRoute route;
    private boolean closed;

    protected QueuePair(int portId, int queue) {
        this.portId = portId;
        this.queue = queue;
    }

    public final int portId() {
        return portId;
    }

    public final int queue() {
        return queue;
    }

    /** Receives up to {@code batch.capacity() - batch.count()} packets and appends them to {@code batch}. */
    public abstract int rxBurst(MbufBatch batch);

    /** Queues the batch's packets for sending, as many as fit; the unsent rest moves to the batch's front. */
    public abstract int txBurst(MbufBatch batch);

    /** True when the RX ring's next descriptor holds a packet (drivers that cannot tell say true). */
    public abstract boolean rxReady();

    /** Packets received and sent through this object (-1 when the driver does not count per queue). */
    public abstract long rxPackets();

    public abstract long txPackets();

    /**
     * The eventfd the device increments for this RX queue, owned by the queue pair (do not close it), or -1 when
     * there is none.
     */
    public final int rxInterruptFd() {
        return route != null ? route.fd() : driverRxInterruptFd();
    }

    /** Arms this RX queue's interrupt once; false, left unarmed, when a packet is already waiting. */
    public final boolean rxInterruptEnable() {
        return route != null ? route.enable() : driverRxInterruptEnable();
    }

    /** Disarms what {@link #rxInterruptEnable()} armed (a routed interrupt disarms itself when it fires). */
    public final void rxInterruptDisable() {
        if (route == null) {
            driverRxInterruptDisable();
        }
    }

    /**
     * Has {@code r} serve this queue's RX interrupt from now on (for attaching processes whose driver cannot
     * reach it: {@link #driverRxInterruptFd()} is -1); the route is closed with the queue pair.
     */
    public final void routeRxInterrupt(RxInterruptRoute r) {
        if (route != null) {
            throw new IllegalStateException(this + ": the RX interrupt is routed already");
        }
        this.route = r;
    }

    /**
     * The driver's eventfd for this RX queue, when this process holds one (the port's own, or one handed over with
     * the queue, e.g. virtio-user's call eventfd); -1 otherwise.
     */
    protected int driverRxInterruptFd() {
        return -1;
    }

    /**
     * Arms the interrupt from this process: drivers whose arming lives in shared memory (virtio: the ring's event
     * index or flags) or in a register this process reaches. Others throw {@link UnsupportedOperationException}.
     */
    protected boolean driverRxInterruptEnable() {
        throw new UnsupportedOperationException(this + ": the RX interrupt is armed by the port's owner");
    }

    protected void driverRxInterruptDisable() {
    }

    /** Runs {@code r} when the pair is closed, after the driver has let go (mp-ethdev releases its claim so). */
    public final void onClose(Runnable r) {
        onClose.add(r);
    }

    /**
     * Lets go of the queue: the mbufs in its rings stay there (the queue's state in shared memory stays
     * consistent for the next owner); only this process's hold and mappings go. A port's own pairs need no close
     * (they go with the port).
     */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            release();
        } finally {
            if (route != null) {
                route.close();
            }
            for (Runnable r : onClose) {
                r.run();
            }
        }
    }

    /** What the driver lets go of on {@link #close}. */
    protected void release() {
    }

    @Override
    public String toString() {
        return "port " + portId + " queue pair " + queue;
    }
}
