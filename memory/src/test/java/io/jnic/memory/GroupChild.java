package io.jnic.memory;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The other process of the multi-process tests (started by {@link ChildJvm}); talks over stdin/stdout. */
public final class GroupChild {
    private GroupChild() {
    }

    public static void main(String[] args) {
        try {
            switch (args[0]) {
                case "attach" -> attach(args);
                case "attach-memfd" -> attachMemfd(args);
                case "reserve-many" -> reserveMany(args);
                case "hold-lock" -> holdLock(args);
                case "create-and-wait" -> createAndWait(args);
                case "pagemap" -> pagemap();
                default -> throw new IllegalArgumentException("unknown command " + args[0]);
            }
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("ERROR " + t);
            t.printStackTrace();
            System.out.flush();
            System.exit(1);
        }
    }

    static MemoryConfig config(String runtimeDir, String prefix) {
        return MemoryConfig.builder().runtimeDir(Path.of(runtimeDir)).filePrefix(prefix).build();
    }

    /** Occupies the parent's address so that our mapping must land elsewhere. */
    static MemorySegment occupy(String address, String size) {
        MemorySegment hint = MemorySegment.ofAddress(Long.parseLong(address));
        return Mman.mmap(hint, Long.parseLong(size), Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
    }

    static void useZone(MemoryGroup group, String zoneName) {
        Memzone z = group.lookup(zoneName);
        MemorySegment m = z.memory();
        System.out.println("ZONE " + z.memory().address() + " " + z.iova(0) + " " + m.get(ValueLayout.JAVA_LONG, 0)
                + " " + z.segment().memory().address());
        m.set(ValueLayout.JAVA_LONG, 8, 0xC0FFEEL + m.get(ValueLayout.JAVA_LONG, 0));
        System.out.println("WROTE");
    }

    static void attach(String[] a) {
        MemorySegment blocker = occupy(a[4], a[5]);
        System.out.println("BLOCKED " + blocker.address());
        try (MemoryGroup g = MemoryGroup.attach(config(a[1], a[2]))) {
            useZone(g, a[3]);
        }
    }

    static void attachMemfd(String[] a) {
        String prefix = a[1];
        String pid = a[2];
        int headerFd = Io.open("/proc/" + pid + "/fd/" + a[3], Io.O_RDWR | Io.O_CLOEXEC);
        String[] segFds = a[4].split(",");
        MemorySegment blocker = occupy(a[6], a[7]);
        System.out.println("BLOCKED " + blocker.address());
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(prefix).backing(Backing.MEMFD).build();
        try (MemoryGroup g = MemoryGroup.attach(cfg, headerFd,
                id -> Io.open("/proc/" + pid + "/fd/" + segFds[id], Io.O_RDWR | Io.O_CLOEXEC))) {
            useZone(g, a[5]);
        }
    }

    static void reserveMany(String[] a) throws Exception {
        int threads = Integer.parseInt(a[3]);
        int perThread = Integer.parseInt(a[4]);
        String tag = a[5];
        try (MemoryGroup g = MemoryGroup.attach(config(a[1], a[2]))) {
            System.out.println("READY");
            new BufferedReader(new InputStreamReader(System.in)).readLine();
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        reserveZones(g, tag + "-" + id, perThread, tag.hashCode() * 31L + id);
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            if (!errors.isEmpty()) {
                throw new IllegalStateException("reserve failed", errors.getFirst());
            }
            System.out.println("DONE " + threads * perThread);
        }
    }

    /** Reserves {@code count} zones of varied size and alignment and stamps each with its name's hash. */
    static void reserveZones(MemoryGroup g, String stem, int count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            String name = stem + "-" + i;
            Memzone z = g.reserve(name, 64 + rnd.nextInt(4000), 1L << rnd.nextInt(13));
            z.memory().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, name.hashCode());
        }
    }

    static void holdLock(String[] a) throws InterruptedException {
        MemoryGroup g = MemoryGroup.attach(config(a[1], a[2]));
        g.lock().lock(java.time.Duration.ofSeconds(10));
        System.out.println("LOCKED " + ProcessHandle.current().pid());
        Thread.sleep(120_000);
    }

    static void createAndWait(String[] a) throws InterruptedException {
        MemoryConfig cfg = config(a[1], a[2]).toBuilder().size(Long.parseLong(a[3])).build();
        MemoryGroup g = MemoryGroup.create(cfg);
        g.reserve("from-dead-child", 64);
        System.out.println("CREATED " + g.segment(0).path().orElseThrow());
        Thread.sleep(120_000);
    }

    static void pagemap() {
        MemorySegment page = Mman.mmap(4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS,
                -1, 0);
        page.set(ValueLayout.JAVA_LONG, 0, 1L);
        try {
            System.out.println("PFN " + Long.toHexString(Pagemap.physicalAddress(page.address())));
        } catch (MemoryException e) {
            System.out.println("MESSAGE " + e.reason() + " " + e.getMessage());
        }
    }
}
