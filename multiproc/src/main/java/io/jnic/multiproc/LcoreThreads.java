package io.jnic.multiproc;

import io.jnic.memory.MemoryGroup;
import io.jnic.sys.Sched;
import java.util.BitSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This process's threads and their lcore ids (DPDK's rte_lcore_id, rte_eal_remote_launch, rte_thread_register):
 * threads pinned to one of the process's -l lcores, and floating threads that claim a free id in the group's
 * {@link LcoreTable} for their lifetime. The id of the calling thread is a thread-local.
 */
final class LcoreThreads {
    private static final ThreadLocal<Integer> CURRENT_LCORE = new ThreadLocal<>();

    private final LcoreSet lcores;
    private final LcoreTable table;
    private final MemoryGroup memory;
    private final int pid;
    private final String prefix;
    private final Set<Integer> floating = ConcurrentHashMap.newKeySet();

    LcoreThreads(LcoreSet lcores, LcoreTable table, MemoryGroup memory, int pid, String prefix) {
        this.lcores = lcores;
        this.table = table;
        this.memory = memory;
        this.pid = pid;
        this.prefix = prefix;
    }

    /** The lcore id of the calling thread (pinned or floating), or -1. */
    static int current() {
        Integer id = CURRENT_LCORE.get();
        return id == null ? -1 : id;
    }

    /** See {@link MpRuntime#pinCurrentThread(int)}. */
    void pin(int lcore) {
        if (!lcores.contains(lcore)) {
            throw new IllegalArgumentException("lcore " + lcore + " is not one of this process's lcores [" + lcores
                    + "]; claim it with -l");
        }
        BitSet cpu = new BitSet();
        cpu.set(lcore);
        Sched.setAffinity(0, cpu);
        CURRENT_LCORE.set(lcore);
    }

    /** See {@link MpRuntime#launch(int, Runnable)}. */
    Thread launch(int lcore, Runnable task) {
        if (!lcores.contains(lcore)) {
            throw new IllegalArgumentException("lcore " + lcore + " is not one of this process's lcores [" + lcores
                    + "]; claim it with -l");
        }
        Thread t = new Thread(() -> {
            pin(lcore);
            try {
                task.run();
            } finally {
                CURRENT_LCORE.remove();
            }
        }, "lcore-" + lcore);
        t.start();
        return t;
    }

    /**
     * Claims a free lcore id for the calling thread, after recovering what a dead holder of it left.
     *
     * @throws MpException when every lcore id is taken
     */
    int claimFloating() {
        if (current() >= 0) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " already has lcore " + current());
        }
        int id = table.claimAny(pid, LcoreSet.EMPTY);
        if (id < 0) {
            throw new MpException("no lcore id is free for a floating thread: all " + LcoreTable.SLOTS
                    + " are held by processes of file prefix '" + prefix + "'");
        }
        RuntimeStart.recoverTakenOver(memory, LcoreSet.of(id)); // a dead holder's cache may still hold what it left
        floating.add(id);
        CURRENT_LCORE.set(id);
        return id;
    }

    /** Gives a floating thread's id back. */
    void releaseFloating(int id) {
        floating.remove(id);
        table.release(id, pid);
        if (Integer.valueOf(id).equals(CURRENT_LCORE.get())) {
            CURRENT_LCORE.remove();
        }
    }
}
