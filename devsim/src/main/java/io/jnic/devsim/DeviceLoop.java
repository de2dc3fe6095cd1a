package io.jnic.devsim;

import io.jnic.devsim.ixgbe.Ixgbe82599;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The device thread: turns every port's {@link Ixgbe82599#poll} in a loop. Busy while there is work; after a
 * run of idle turns it parks briefly (50 us) so an idle simulator does not burn a core, at the price of that
 * much doorbell latency.
 */
public final class DeviceLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceLoop.class.getName());
    private static final int SPINS_BEFORE_PARK = 200;
    private static final long PARK_NANOS = 50_000;
    /** After about a second without work the loop naps longer, so an idle simulator costs next to nothing. */
    private static final int PARKS_BEFORE_NAP = 20_000;
    private static final long NAP_NANOS = 500_000;

    private final Ixgbe82599[] devices;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile long turns;
    private volatile long faults;
    private volatile java.util.function.IntPredicate dmaIntact = p -> true;

    public DeviceLoop(List<Ixgbe82599> devices) {
        this.devices = devices.toArray(new Ixgbe82599[0]);
        this.thread = new Thread(this::run, "devsim-device-loop");
        this.thread.setDaemon(true);
    }

    public DeviceLoop start() {
        thread.start();
        return this;
    }

    private void run() {
        int idle = 0;
        long n = 0;
        try {
            while (running) {
                int work = 0;
                int current = 0;
                try {
                    for (; current < devices.length; current++) {
                        work += devices[current].poll();
                    }
                } catch (InternalError fault) {
                    // a client shrank the file behind a DMA window (SIGBUS, which the JVM raises here, possibly a
                    // little after the access, and maybe while polling another port: a wire delivers frames into
                    // its peer): the ports whose memory is broken reset, not the others
                    boolean found = false;
                    for (int i = 0; i < devices.length; i++) {
                        if (!dmaIntact.test(i)) {
                            found = true;
                            reset(devices[i], fault);
                        }
                    }
                    if (!found) {
                        reset(devices[Math.min(current, devices.length - 1)], fault);
                    }
                    faults++; // after the resets: who reads the count sees them done
                    continue;
                }
                n++;
                if ((n & 1023) == 0) {
                    turns = n;
                }
                if (work > 0) {
                    idle = 0;
                } else if (++idle < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(idle < SPINS_BEFORE_PARK + PARKS_BEFORE_NAP ? PARK_NANOS : NAP_NANOS);
                }
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(System.Logger.Level.ERROR, "device loop stopped: " + t, t);
        }
    }

    private static void reset(Ixgbe82599 d, InternalError fault) {
        LOG.log(System.Logger.Level.ERROR, "{0}: DMA fault ({1}): the memory of its driver shrank under the device; "
                + "the port resets, its driver must set it up again", d.name(), fault.getMessage());
        d.faultReset();
    }

    /**
     * How the loop finds the port whose DMA memory broke after a fault: {@code intact.test(i)} is false for port
     * {@code i} when the memory behind one of its DMA windows is gone (the vfio-user transport knows).
     */
    public void dmaCheck(java.util.function.IntPredicate intact) {
        this.dmaIntact = intact;
    }

    /** Non-null when the loop died of an exception (the simulated hardware is then dead too). */
    public Throwable failure() {
        return failure;
    }

    /** DMA faults survived (memory a client shrank under a mapping): each reset the port that faulted. */
    public long dmaFaults() {
        return faults;
    }

    public long turns() {
        return turns;
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
