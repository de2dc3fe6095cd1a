package io.jnic.apps.common;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * SIGTERM or Ctrl-C for an app: the shutdown hook tells the main loop to stop and then waits (at most
 * {@code grace}) until the app has finished its orderly end (drain, leave the queues, audit the pool) and
 * closed this. It waits on a latch, not on the main thread: that thread ends in {@code System.exit}, which
 * itself waits for the hooks.
 */
public final class GracefulExit implements AutoCloseable {
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    private GracefulExit(Runnable stop, Duration grace) {
        this.hook = new Thread(() -> {
            stop.run();
            try {
                finished.await(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "graceful-exit");
    }

    /** Installs the hook; {@code stop} runs on the hook's thread and must only ask the main loop to end. */
    public static GracefulExit install(Runnable stop, Duration grace) {
        GracefulExit g = new GracefulExit(stop, grace);
        Runtime.getRuntime().addShutdownHook(g.hook);
        return g;
    }

    /** The app has finished: a waiting hook returns, and a later signal ends the JVM at once. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running and now returns
        }
    }
}
