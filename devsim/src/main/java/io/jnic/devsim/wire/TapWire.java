package io.jnic.devsim.wire;

import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Linux TAP interface as the far end: frames the port sends are written to the TAP (the kernel receives
 * them), frames the kernel sends on the TAP arrive at the port. Created with TUNSETIFF on /dev/net/tun
 * (IFF_TAP | IFF_NO_PI, Documentation/networking/tuntap.rst); the interface must be up
 * ({@code ip link set NAME up}) for traffic to flow. Needs CAP_NET_ADMIN.
 */
public final class TapWire implements Wire {
    private static final System.Logger LOG = System.getLogger(TapWire.class.getName());
    /** _IOW('T', 202, int). */
    static final long TUNSETIFF = 0x400454CAL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final int IFNAMSIZ = 16;
    private static final int BATCH = 32;
    private static final int MTU_FRAME = 16 * 1024;
    /**
     * The shortest frame on an Ethernet wire without its FCS (IEEE 802.3 clause 4.2.3.3: 64 bytes with FCS). The
     * kernel hands a TAP frames as its stack built them (a 42-byte ARP request); a real sender's MAC pads them with
     * zeros before they reach the wire, so this end does the same before the port's MAC sees them (which would
     * otherwise count them as undersized, RUC, and drop them).
     */
    public static final int MIN_WIRE_FRAME = 60;

    private final String name;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment txBuf;
    private final MemorySegment rxBuf;
    private FramePort port;
    private long writeErrors;
    private volatile long toKernel;
    private volatile long fromKernel;
    private volatile long padded;

    /** Opens (or creates) TAP interface {@code name}; throws naming what is missing when it cannot. */
    public TapWire(String name) {
        if (name == null || name.isEmpty() || name.length() >= IFNAMSIZ || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("TAP interface name '" + name + "' must be 1-" + (IFNAMSIZ - 1)
                    + " characters of letters, digits, '_', '.', '-'");
        }
        this.name = name;
        int f;
        try {
            f = Io.open("/dev/net/tun", Io.O_RDWR | Io.O_NONBLOCK | Io.O_CLOEXEC);
        } catch (SysException e) {
            throw new IllegalStateException("cannot open /dev/net/tun for TAP " + name + " (" + e.getMessage()
                    + "): load the tun module and run as root or with CAP_NET_ADMIN", e);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(40); // struct ifreq: name[16], then ifr_flags (short)
            MemorySegment.copy(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, ifr,
                    ValueLayout.JAVA_BYTE, 0, name.length());
            ifr.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI));
            Io.ioctl(f, TUNSETIFF, ifr);
        } catch (SysException e) {
            Io.closeQuietly(f);
            throw new IllegalStateException("TUNSETIFF for TAP " + name + " failed (" + e.getMessage()
                    + "): it needs CAP_NET_ADMIN, and the name must not belong to a non-TAP interface", e);
        }
        this.fd = f;
        this.txBuf = arena.allocate(MTU_FRAME, 64);
        this.rxBuf = arena.allocate(MTU_FRAME, 64);
    }

    public String name() {
        return name;
    }

    @Override
    public void attach(FramePort p) {
        this.port = p;
    }

    @Override
    public void transmit(MemorySegment frame, long offset, int length) {
        if (length > MTU_FRAME) {
            return;
        }
        MemorySegment.copy(frame, offset, txBuf, 0, length);
        try {
            if (Io.write(fd, txBuf, length) == length) {
                toKernel++;
            }
        } catch (SysException e) {
            // EIO while the interface is down: the frame is lost, as on an unplugged cable
            if (writeErrors++ == 0) {
                LOG.log(System.Logger.Level.INFO, "TAP {0}: write failed ({1}); is the interface up?", name,
                        e.getMessage());
            }
        }
    }

    @Override
    public int poll(long nowNanos) {
        int n = 0;
        while (n < BATCH) {
            long r = Io.read(fd, rxBuf, MTU_FRAME);
            if (r <= 0) {
                break;
            }
            fromKernel++;
            int len = (int) r;
            if (len < MIN_WIRE_FRAME) {
                rxBuf.asSlice(len, MIN_WIRE_FRAME - len).fill((byte) 0);
                len = MIN_WIRE_FRAME;
                padded++;
            }
            if (port != null) {
                port.receive(rxBuf, 0, len);
            }
            n++;
        }
        return n;
    }

    @Override
    public boolean carrier() {
        return true;
    }

    public long framesToKernel() {
        return toKernel;
    }

    public long framesFromKernel() {
        return fromKernel;
    }

    /** Frames from the kernel shorter than {@value #MIN_WIRE_FRAME} bytes that were padded. */
    public long framesPadded() {
        return padded;
    }

    @Override
    public String describe() {
        return "tap " + name;
    }

    @Override
    public void close() {
        Io.closeQuietly(fd);
        arena.close();
    }
}
