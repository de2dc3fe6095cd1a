package io.jnic.multiproc.ipc;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One log line per cause instead of one per event: the first event of a cause is logged in full, later ones
 * are counted and summed up in at most one line per cause per interval ("N more ... in the last S s; the
 * latest: ..."), written when the next event of that cause comes after the interval, or by {@link #flush}.
 * Messages are built only when they are logged. A peer flooding a channel with bad datagrams thus costs a few
 * lines, not one per datagram.
 */
public final class RateLimitedLog {
    /** System property: the shortest time between two summary lines of one cause, in ms (default 10000). */
    public static final String INTERVAL_PROPERTY = "jnic.ipc.logIntervalMs";

    private final System.Logger log;
    private final long intervalNanos;
    private final Map<String, State> causes = new ConcurrentHashMap<>();

    private static final class State {
        long lastLogged;
        long suppressed;
        Supplier<String> latest;
    }

    /** Logs to {@code log}, one summary per cause per {@value #INTERVAL_PROPERTY} ms (10 s by default). */
    public RateLimitedLog(System.Logger log) {
        this(log, TimeUnit.MILLISECONDS.toNanos(Math.max(1, Long.getLong(INTERVAL_PROPERTY, 10_000))));
    }

    public RateLimitedLog(System.Logger log, long intervalNanos) {
        this.log = log;
        this.intervalNanos = intervalNanos;
    }

    /** One event of {@code cause}; {@code message} is built only if this event is logged. */
    public void log(System.Logger.Level level, String cause, Supplier<String> message) {
        if (!log.isLoggable(level)) {
            return;
        }
        State s = causes.computeIfAbsent(cause, k -> new State());
        String line = null;
        synchronized (s) {
            long now = System.nanoTime();
            if (s.latest == null) {
                s.lastLogged = now;
                s.latest = message;
                line = message.get() + " (further " + cause + " events are summed up at most every "
                        + TimeUnit.NANOSECONDS.toSeconds(intervalNanos) + " s)";
            } else if (now - s.lastLogged >= intervalNanos) {
                line = summary(cause, s.suppressed + 1, now - s.lastLogged, message);
                s.lastLogged = now;
                s.suppressed = 0;
                s.latest = message;
            } else {
                s.suppressed++;
                s.latest = message;
            }
        }
        if (line != null) {
            log.log(level, line);
        }
    }

    /** Writes the summary of every cause that has events not logged yet (at {@code level}). */
    public void flush(System.Logger.Level level) {
        for (Map.Entry<String, State> e : causes.entrySet()) {
            State s = e.getValue();
            String line = null;
            synchronized (s) {
                if (s.suppressed > 0) {
                    long now = System.nanoTime();
                    line = summary(e.getKey(), s.suppressed, now - s.lastLogged, s.latest);
                    s.suppressed = 0;
                    s.lastLogged = now;
                }
            }
            if (line != null && log.isLoggable(level)) {
                log.log(level, line);
            }
        }
    }

    private static String summary(String cause, long n, long nanos, Supplier<String> latest) {
        return n + " more " + cause + " event(s) in the last " + Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanos))
                + " s; the latest: " + latest.get();
    }
}
