package io.jnic.multiproc;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The shared config of a file prefix (DPDK's rte_config / mem_config), a small file in the runtime dir
 * mapped shared by every process of the group. The primary creates and fills it, then publishes it by a
 * release store of {@link #STATE_READY}; a secondary waits for that state (acquire) before reading.
 *
 * <pre>
 * offset size field
 *    0    4   magic            0x46434E4A ("JNCF")
 *    4    4   layout version   {@link #LAYOUT_VERSION}
 *    8    4   state            0 initializing, 1 ready
 *   12    4   primary pid
 *   16    8   primary start    CLOCK_REALTIME, ns
 *   24    4   build id length
 *   28   64   build id         ASCII
 *   92   36   reserved
 *  128 1024   lcore table      {@link LcoreTable}: 128 slots of 8 bytes
 * 1152 2944   reserved (memory group part, later)
 * </pre>
 * Native byte order (all processes run on the same machine).
 */
public final class SharedConfig implements AutoCloseable {
    public static final int MAGIC = 0x4643_4E4A;
    /** Bumped whenever this layout or a shared structure's layout changes. */
    public static final int LAYOUT_VERSION = 1;
    public static final int STATE_INITIALIZING = 0;
    public static final int STATE_READY = 1;
    /** The group ended and its files are being removed: nobody may attach any more. */
    public static final int STATE_ENDED = 2;
    public static final long SIZE = 4096;

    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 4;
    static final long OFF_STATE = 8;
    static final long OFF_PRIMARY_PID = 12;
    static final long OFF_PRIMARY_START = 16;
    static final long OFF_BUILD_LEN = 24;
    static final long OFF_BUILD = 28;
    static final long OFF_LCORES = 128;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Path file;
    private final int fd;
    private final MemorySegment map;
    private final LcoreTable lcores;

    private SharedConfig(Path file, int fd, MemorySegment map) {
        this.file = file;
        this.fd = fd;
        this.map = map;
        this.lcores = new LcoreTable(map.asSlice(OFF_LCORES, LcoreTable.BYTES));
    }

    /** Creates a new config (the primary; the file must not exist), still marked initializing. */
    static SharedConfig create(Path file, int primaryPid, String buildId) {
        int fd = Io.open(file.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_EXCL | Io.O_CLOEXEC, 0600);
        try {
            Io.ftruncate(fd, SIZE);
            MemorySegment map = Mman.mmap(SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            SharedConfig c = new SharedConfig(file, fd, map);
            map.set(ValueLayout.JAVA_INT, OFF_MAGIC, MAGIC);
            map.set(ValueLayout.JAVA_INT, OFF_VERSION, LAYOUT_VERSION);
            map.set(ValueLayout.JAVA_INT, OFF_PRIMARY_PID, primaryPid);
            map.set(ValueLayout.JAVA_LONG, OFF_PRIMARY_START, System.currentTimeMillis() * 1_000_000L);
            byte[] b = buildId.getBytes(StandardCharsets.US_ASCII);
            map.set(ValueLayout.JAVA_INT, OFF_BUILD_LEN, b.length);
            MemorySegment.copy(b, 0, map, ValueLayout.JAVA_BYTE, OFF_BUILD, b.length);
            return c;
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    /** Maps an existing config (a secondary); the caller checks {@link #state()} and the ids. */
    static SharedConfig map(Path file) {
        int fd = Io.open(file.toString(), Io.O_RDWR | Io.O_CLOEXEC);
        try {
            MemorySegment map = Mman.mmap(SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            return new SharedConfig(file, fd, map);
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    /** Marks the config ready (release store): secondaries may attach from now on. */
    void publish() {
        INT.setRelease(map, OFF_STATE, STATE_READY);
    }

    /** Marks the config ended (the last process is removing the group's files). */
    void retire() {
        INT.setRelease(map, OFF_STATE, STATE_ENDED);
    }

    public Path file() {
        return file;
    }

    int fd() {
        return fd;
    }

    public int magic() {
        return map.get(ValueLayout.JAVA_INT, OFF_MAGIC);
    }

    public int layoutVersion() {
        return map.get(ValueLayout.JAVA_INT, OFF_VERSION);
    }

    /** Acquire load: once it reads ready, everything the primary wrote before is visible. */
    public int state() {
        return (int) INT.getAcquire(map, OFF_STATE);
    }

    public int primaryPid() {
        return map.get(ValueLayout.JAVA_INT, OFF_PRIMARY_PID);
    }

    /** The primary's build id; bounds-checked, "" when the length field is out of range. */
    public String buildId() {
        int n = map.get(ValueLayout.JAVA_INT, OFF_BUILD_LEN);
        if (n < 0 || n > BuildId.MAX_LENGTH) {
            return "";
        }
        return new String(map.asSlice(OFF_BUILD, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    public LcoreTable lcores() {
        return lcores;
    }

    @Override
    public void close() {
        Mman.munmap(map);
        Io.closeQuietly(fd);
    }
}
