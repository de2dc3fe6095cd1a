package io.jnic.memory.ring;

import io.jnic.memory.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Two producer and two consumer JVMs on one MP/MC ring in a shared file: every handle arrives exactly once. */
class RingProcessTest {

    private static final int PER_PRODUCER = 100_000;

    @Test
    void mpmcAcrossProcessesInDevShm() throws Exception {
        run(SharedFile.shmPath("ring-mp"), 4L << 20);
    }

    @Test
    void mpmcAcrossProcessesInHugepages() throws Exception {
        Path p = SharedFile.hugePath("ring-mp", 2);
        assumeTrue(p != null, "no free 2 MiB hugepages at /dev/hugepages; reserve them with "
                + "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages && mount -t hugetlbfs nodev /dev/hugepages");
        run(p, 4L << 20);
    }

    private void run(Path path, long size) throws Exception {
        long total = 2L * PER_PRODUCER;
        try (SharedFile f = SharedFile.create(path, size)) {
            MemorySegment m = f.segment();
            Ring.create(m, "mpmc", 256, 0, -1000); // counters wrap during the run
            List<ChildJvm> kids = new ArrayList<>();
            try {
                for (int c = 0; c < 2; c++) {
                    kids.add(ChildJvm.start(RingChild.class, "consume", path.toString(), Long.toString(size), Long.toString(total),
                            Long.toString(PER_PRODUCER)));
                }
                for (int p = 0; p < 2; p++) {
                    kids.add(ChildJvm.start(RingChild.class, "produce", path.toString(), Long.toString(size),
                            Long.toString((long) p * PER_PRODUCER), Integer.toString(PER_PRODUCER)));
                }
                for (ChildJvm k : kids) {
                    assertNotEquals(m.address(), Long.parseLong(k.await("addr=")), "child mapped the file at the parent's address");
                }
                for (ChildJvm k : kids) {
                    assertEquals(0, k.waitFor(120), () -> "child failed: " + k.output());
                }
            } finally {
                kids.forEach(ChildJvm::close);
            }
            assertEquals(total, m.get(ValueLayout.JAVA_LONG, RingChild.DONE_OFF));
            for (long h = 0; h < total; h++) {
                assertEquals(1, m.get(ValueLayout.JAVA_INT, RingChild.SEEN_OFF + 4 * h), "handle " + h + " seen count");
            }
            assertEquals(0, Ring.attach(m).count());
        }
    }
}
