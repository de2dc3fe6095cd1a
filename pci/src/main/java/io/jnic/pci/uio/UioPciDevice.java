package io.jnic.pci.uio;

import io.jnic.pci.MappedBar;
import io.jnic.pci.PhysicalDma;
import io.jnic.pci.PciAddress;
import io.jnic.pci.FdIoBar;
import io.jnic.pci.BarHandover;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciIoBar;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciConfigAccess;
import io.jnic.pci.PciDevice;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciResource;
import io.jnic.pci.PciSysfs;
import io.jnic.pci.SysfsConfig;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PCI function bound to uio_pci_generic (or igb_uio): BARs mmap'ed from sysfs {@code resourceN},
 * configuration space through the sysfs {@code config} file, DMA by physical address (memory must be
 * pinned hugepages), and INTx only, signalled on {@code /dev/uioN}.
 *
 * <p>Interrupts follow uio_pci_generic: its handler masks INTx by setting the command register's
 * INTx-disable bit and wakes readers of /dev/uioN (a 4-byte event count); the driver re-enables the line
 * by clearing the bit ({@link #unmaskIntx}). Use either {@link #interruptFd()} with
 * {@link #waitForInterrupt}, or {@link #enableInterrupts} with an eventfd that a forwarding thread
 * signals, not both.
 */
public final class UioPciDevice implements PciDevice, PciConfigAccess {
    private static final System.Logger LOG = System.getLogger(UioPciDevice.class.getName());
    public static final List<String> UIO_DRIVERS = List.of("uio_pci_generic", "igb_uio");

    private final PciAddress address;
    private final PciSysfs sysfs;
    private final PciDeviceInfo info;
    private final SysfsConfig config;
    private final int uioNumber;
    private final int uioFd;
    private final PciBar[] bars = new PciBar[6];
    private final PciIoBar[] ioBars = new PciIoBar[6];
    private final List<Integer> ioFds = new ArrayList<>();
    private final List<MemorySegment> mappings = new ArrayList<>();
    private final MemorySegment countBuf = Arena.ofAuto().allocate(4, 4);
    private Forwarder forwarder;
    private boolean closed;

    private UioPciDevice(PciSysfs sysfs, PciAddress address, int uioNumber, Path devDir) {
        this.sysfs = sysfs;
        this.address = address;
        this.info = sysfs.device(address);
        this.uioNumber = uioNumber;
        this.config = SysfsConfig.open(sysfs, address);
        int fd = -1;
        try {
            fd = Io.open(devDir.resolve("uio" + uioNumber).toString(), Io.O_RDWR | Io.O_CLOEXEC);
            this.uioFd = fd;
            setBusMaster(true);
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            config.close();
            throw e;
        }
    }

    /** Opens {@code address}, which must be bound to uio_pci_generic (or igb_uio); enables bus mastering. */
    public static UioPciDevice open(PciAddress address) {
        return open(new PciSysfs(), Path.of("/dev"), address);
    }

    public static UioPciDevice open(PciSysfs sysfs, Path devDir, PciAddress address) {
        int n = checkUsable(sysfs, devDir, address);
        return new UioPciDevice(sysfs, address, n, devDir);
    }

    /**
     * Checks that {@code address} can be driven through UIO and returns its UIO number; otherwise the
     * exception says what to do (load the module, bind the device).
     */
    public static int checkUsable(PciSysfs sysfs, Path devDir, PciAddress address) {
        if (!sysfs.exists(address)) {
            throw new IllegalStateException("no PCI device " + address + " (no " + sysfs.deviceDir(address)
                    + "); `./jnic devbind --status` lists the network devices");
        }
        String driver = sysfs.driver(address);
        if (driver == null || !UIO_DRIVERS.contains(driver)) {
            String load = sysfs.driverLoaded("uio_pci_generic") ? ""
                    : "the uio_pci_generic module is not loaded (as root: `modprobe uio_pci_generic`), and ";
            throw new IllegalStateException("cannot open " + address + " with UIO: " + load + address + " is "
                    + (driver == null ? "not bound to any driver" : "bound to " + driver)
                    + ", not to uio_pci_generic: bind it with `./jnic devbind --bind uio_pci_generic " + address
                    + "` (or dpdk-devbind.py -b uio_pci_generic " + address + ")");
        }
        Path uioDir = sysfs.deviceDir(address).resolve("uio");
        int n = -1;
        try (Stream<Path> s = Files.list(uioDir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith("uio") && name.length() > 3) {
                    n = Integer.parseInt(name.substring(3));
                }
            }
        } catch (IOException | NumberFormatException e) {
            n = -1;
        }
        if (n < 0) {
            throw new IllegalStateException(address + " is bound to " + driver + " but has no UIO device under " + uioDir
                    + " (does the device have an interrupt pin? uio_pci_generic needs INTx)");
        }
        if (!Files.exists(devDir.resolve("uio" + n))) {
            throw new IllegalStateException("no " + devDir.resolve("uio" + n) + " for " + address + " (is devtmpfs mounted?)");
        }
        return n;
    }

    @Override
    public String name() {
        return address.toString();
    }

    /** All of sysfs {@code resourceN}, opened here for the receiver (which then needs no access to sysfs). */
    @Override
    public BarHandover handOverBar(int bar) {
        long size = bar(bar).size();
        return handOver(bar, size, Io.open(sysfs.deviceDir(address).resolve("resource" + bar).toString(),
                Io.O_RDWR | Io.O_CLOEXEC));
    }

    /** {@link #handOverBar} of a {@code size}-byte BAR whose resource file is open as {@code fd}: all of it, from 0. */
    public static BarHandover handOver(int bar, long size, int fd) {
        return new BarHandover("uio", bar, size, 0, new long[][] {{0, size}}, fd, true);
    }

    @Override
    public String transport() {
        return "uio";
    }

    @Override
    public DmaAddressing dmaAddressing() {
        return DmaAddressing.PHYSICAL;
    }

    public PciAddress address() {
        return address;
    }

    /** N of /dev/uioN. */
    public int uioNumber() {
        return uioNumber;
    }

    /** /dev/uioN: becomes readable when INTx fires; read 4 bytes (the event count) to consume. */
    public int interruptFd() {
        return uioFd;
    }

    @Override
    public int configSize() {
        return config.configSize();
    }

    @Override
    public int configRead(int offset, int size) {
        return config.configRead(offset, size);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        config.configWrite(offset, size, value);
    }

    /** Sets or clears the command register's bus-master bit: the device may only DMA while it is set. */
    public synchronized void setBusMaster(boolean on) {
        int cmd = configRead(PciConfig.COMMAND, 2);
        int want = on ? cmd | PciConfig.COMMAND_BUS_MASTER : cmd & ~PciConfig.COMMAND_BUS_MASTER;
        if (want != cmd) {
            configWrite(PciConfig.COMMAND, 2, want);
        }
    }

    @Override
    public synchronized PciBar bar(int index) {
        if (index < 0 || index > 5) {
            throw new IllegalArgumentException(name() + ": BAR index must be 0-5, not " + index);
        }
        if (bars[index] == null) {
            PciResource r = info.bar(index).filter(x -> x.size() > 0)
                    .orElseThrow(() -> new IllegalArgumentException(name() + " has no BAR" + index));
            if (!r.isMemory()) {
                throw new IllegalArgumentException(name() + " BAR" + index + " is not a memory BAR (" + r + ")");
            }
            Path file = sysfs.deviceDir(address).resolve("resource" + index);
            int fd = Io.open(file.toString(), Io.O_RDWR | Io.O_CLOEXEC);
            MemorySegment m;
            try {
                m = Mman.mmap(r.size(), Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            } finally {
                Io.close(fd); // the mapping stays valid
            }
            mappings.add(m);
            bars[index] = new MappedBar(name(), index, r.size(), List.of(new MappedBar.Window(0, m))) {
                @Override
                protected int trappedRead32(long offset) {
                    throw new IllegalStateException("unreachable: all of " + this + " is mapped");
                }

                @Override
                protected void trappedWrite32(long offset, int value) {
                    throw new IllegalStateException("unreachable: all of " + this + " is mapped");
                }
            };
        }
        return bars[index];
    }

    /**
     * I/O-port BAR {@code index}: the sysfs {@code resourceN} file of an I/O BAR turns 1-, 2- and 4-byte
     * pread/pwrite into port accesses (drivers/pci/pci-sysfs.c pci_resource_io, Linux 2.6.33 and later; needs root
     * and no kernel lockdown). The file stays open until {@link #close()}.
     */
    @Override
    public synchronized PciIoBar ioBar(int index) {
        if (index < 0 || index > 5) {
            throw new IllegalArgumentException(name() + ": BAR index must be 0-5, not " + index);
        }
        if (ioBars[index] == null) {
            PciResource r = info.bar(index).filter(x -> x.size() > 0)
                    .orElseThrow(() -> new IllegalArgumentException(name() + " has no BAR" + index));
            if (!r.isIo()) {
                throw new IllegalArgumentException(name() + " BAR" + index + " is not an I/O-port BAR (" + r + "): use bar("
                        + index + ")");
            }
            Path file = sysfs.deviceDir(address).resolve("resource" + index);
            int fd = Io.open(file.toString(), Io.O_RDWR | Io.O_CLOEXEC);
            ioFds.add(fd);
            ioBars[index] = new FdIoBar(name(), index, r.size(), fd, 0);
        }
        return ioBars[index];
    }

    /** Physical addressing: nothing to map, but the memory must be pinned hugepages at physical {@code iova}. */
    @Override
    public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) {
        PhysicalDma.checkPhysical(memory, iova);
    }

    @Override
    public void dmaUnmap(long iova, long size) {
        // physical addressing: nothing was mapped
    }

    @Override
    public int interruptCount(InterruptType type) {
        return type == InterruptType.INTX && configRead(PciConfig.INTERRUPT_PIN, 1) != 0 ? 1 : 0;
    }

    /**
     * INTx only: a thread waits on /dev/uioN and signals {@code eventfds[0]} for each interrupt; the line is
     * unmasked now and must be unmasked again after each one ({@link #unmaskIntx}).
     */
    @Override
    public synchronized void enableInterrupts(InterruptType type, int[] eventfds) {
        if (type != InterruptType.INTX) {
            throw new IllegalArgumentException(name() + ": UIO (uio_pci_generic) offers INTx only, not " + type
                    + "; bind the device to vfio-pci for MSI/MSI-X");
        }
        if (eventfds.length != 1) {
            throw new IllegalArgumentException(name() + ": INTx has one vector; got " + eventfds.length + " eventfds");
        }
        if (interruptCount(InterruptType.INTX) == 0) {
            throw new IllegalStateException(name() + " has no interrupt pin");
        }
        if (forwarder != null) {
            forwarder.stop();
        }
        forwarder = new Forwarder(eventfds[0]);
        forwarder.thread.start();
        unmaskIntx();
    }

    @Override
    public synchronized void disableInterrupts(InterruptType type) {
        if (type == InterruptType.INTX) {
            setIntxDisabled(true);
            if (forwarder != null) {
                forwarder.stop();
                forwarder = null;
            }
        }
    }

    /** Clears the INTx-disable bit that uio_pci_generic's handler set. */
    @Override
    public void unmaskIntx() {
        setIntxDisabled(false);
    }

    private synchronized void setIntxDisabled(boolean disabled) {
        int cmd = configRead(PciConfig.COMMAND, 2);
        int want = disabled ? cmd | PciConfig.COMMAND_INTX_DISABLE : cmd & ~PciConfig.COMMAND_INTX_DISABLE;
        if (want != cmd) {
            configWrite(PciConfig.COMMAND, 2, want);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) for an interrupt on /dev/uioN; returns the total
     * interrupt count the kernel reports, or -1 on timeout.
     */
    public long waitForInterrupt(int timeoutMillis) {
        if (!Events.pollIn(uioFd, timeoutMillis)) {
            return -1;
        }
        return readCount();
    }

    private synchronized long readCount() {
        long n = Io.read(uioFd, countBuf, 4); // uio insists on exactly 4 bytes
        if (n != 4) {
            throw new IllegalStateException("read of /dev/uio" + uioNumber + " returned " + n + " bytes, not 4");
        }
        return Integer.toUnsignedLong(countBuf.get(ValueLayout.JAVA_INT, 0));
    }

    /** Function reset through sysfs {@code reset}, when the kernel offers a reset method for the device. */
    @Override
    public void reset() {
        Path reset = sysfs.deviceDir(address).resolve("reset");
        if (!Files.exists(reset)) {
            throw new UnsupportedOperationException(name() + " has no sysfs reset (the kernel knows no reset method for it)");
        }
        try {
            Files.writeString(reset, "1");
        } catch (IOException e) {
            throw new UncheckedIOException("reset of " + name() + " through " + reset + " failed", e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (forwarder != null) {
            forwarder.stop();
            forwarder = null;
        }
        for (MemorySegment m : mappings) {
            Mman.munmap(m);
        }
        mappings.clear();
        for (int fd : ioFds) {
            Io.closeQuietly(fd);
        }
        ioFds.clear();
        Io.closeQuietly(uioFd);
        config.close();
    }

    /** Turns /dev/uioN wake-ups into eventfd increments; stops when its private stop eventfd is signalled. */
    private final class Forwarder implements Runnable {
        private final int eventfd;
        private final int stopFd = Events.eventfd(0, Events.EFD_CLOEXEC);
        private final Thread thread;

        Forwarder(int eventfd) {
            this.eventfd = eventfd;
            this.thread = Thread.ofPlatform().daemon().name("uio" + uioNumber + "-intx").unstarted(this);
        }

        @Override
        public void run() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment fds = Events.allocatePollFds(a, 2);
                while (true) {
                    Events.setPollFd(fds, 0, uioFd, Events.POLLIN);
                    Events.setPollFd(fds, 1, stopFd, Events.POLLIN);
                    if (Events.poll(fds, -1) <= 0) {
                        continue;
                    }
                    if ((Events.pollRevents(fds, 1) & Events.POLLIN) != 0) {
                        return;
                    }
                    if ((Events.pollRevents(fds, 0) & Events.POLLIN) != 0) {
                        readCount();
                        Events.eventfdWrite(eventfd, 1);
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "INTx forwarding for " + name() + " stopped", e);
            }
        }

        void stop() {
            Events.eventfdWrite(stopFd, 1);
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Io.closeQuietly(stopFd);
        }
    }

    @Override
    public String toString() {
        return "UioPciDevice[" + address + ", uio" + uioNumber + "]";
    }
}
