package io.jnic.pci.testbed;

import io.jnic.memory.Pagemap;
import io.jnic.pci.PciAddress;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciCapabilities;
import io.jnic.pci.PciCapability;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciSysfs;
import io.jnic.pci.uio.UioPciDevice;
import io.jnic.pci.vfio.Vfio;
import io.jnic.pci.vfio.VfioException;
import io.jnic.pci.vfio.VfioPciDevice;
import io.jnic.pci.vfio.VfioRegionInfo;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The QEMU test bed's checks, run inside the guest (testbed/run.sh): devbind against a real kernel, then
 * VFIO (with the emulated VT-d IOMMU) and UIO against an emulated e1000e: registers, DMA, interrupts.
 * Not a surefire test: it needs the guest's devices. Prints "@@T PASS|FAIL name" lines for the script.
 */
public final class GuestMain {
    private static final long HUGE = 2L << 20;
    private static final long IOVA = 0x10000000L;
    private static final int WAIT_MS = 5000;

    private static int passed;
    private static int failed;

    interface Check {
        void run() throws Exception;
    }

    record Run(int rc, String out, String err) {
    }

    private final PciSysfs sysfs = new PciSysfs();
    private final PciAddress nic = PciAddress.parse(System.getProperty("jnic.testbed.e1000e", "0000:00:04.0"));
    private final PciAddress kernelNic = PciAddress.parse(System.getProperty("jnic.testbed.kernel-nic", "0000:00:05.0"));
    private final PciAddress routedNic = PciAddress.parse(System.getProperty("jnic.testbed.routed-nic", "0000:00:03.0"));
    private final String devbindJar = System.getProperty("jnic.devbind.jar", "apps/target/devbind.jar");
    private Method devbindRun;

    public static void main(String[] args) throws java.io.IOException {
        // These checks bind, unbind and reset PCI devices: only inside the test bed's guest, whose /init
        // is booted with jnic.dir= on the kernel command line. Never on a host.
        if (!java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cmdline")).contains(" jnic.dir=")) {
            System.err.println("refusing to run: this program rebinds PCI devices and runs only inside the QEMU test"
                    + " bed guest (testbed/run.sh), never on a host");
            System.exit(2);
        }
        new GuestMain().all();
        System.out.println("@@T SUMMARY " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    static void check(String name, Check c) {
        long t0 = System.nanoTime();
        try {
            c.run();
            passed++;
            System.out.printf("@@T PASS %s (%.1f s)%n", name, (System.nanoTime() - t0) / 1e9);
        } catch (Throwable t) {
            failed++;
            System.out.printf("@@T FAIL %s (%.1f s): %s%n", name, (System.nanoTime() - t0) / 1e9, t);
            t.printStackTrace(System.out);
        }
    }

    static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** devbind as a user runs it: {@code java -jar devbind.jar ...} in a JVM of its own. */
    Run devbindProcess(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-jar", devbindJar));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("devbind " + String.join(" ", args) + " did not finish");
        }
        return show("java -jar devbind.jar", args,
                new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8)));
    }

    /**
     * devbind's entry point {@code DevBind.run(out, err, args)} called in this JVM, loaded from the same jar
     * (a JVM start costs seconds under TCG). The pci module cannot depend on apps, hence the reflection.
     */
    Run devbind(String... args) throws Exception {
        if (devbindRun == null) {
            URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(devbindJar).toUri().toURL()},
                    ClassLoader.getPlatformClassLoader());
            devbindRun = loader.loadClass("io.jnic.apps.devbind.DevBind")
                    .getMethod("run", PrintWriter.class, PrintWriter.class, String[].class);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = (int) devbindRun.invoke(null, new PrintWriter(out, true), new PrintWriter(err, true), (Object) args);
        return show("devbind", args, new Run(rc, out.toString(), err.toString()));
    }

    private static Run show(String how, String[] args, Run r) {
        System.out.println("@@J " + how + " " + String.join(" ", args) + " -> rc " + r.rc());
        r.out().lines().forEach(l -> System.out.println("@@J   " + l));
        r.err().lines().forEach(l -> System.out.println("@@J   (err) " + l));
        return r;
    }

    void all() {
        check("devbind --status lists every guest NIC under its driver", () -> {
            Run r = devbindProcess("--status");
            require(r.rc() == 0, "rc " + r.rc());
            List<PciDeviceInfo> nics = sysfs.scan().stream().filter(PciDeviceInfo::isNetwork).toList();
            require(nics.size() >= 3, "expected the 3 NICs QEMU was given, sysfs shows " + nics);
            for (PciDeviceInfo d : nics) {
                require(r.out().contains(d.address() + " "), d.address() + " missing");
            }
            String kernelSection = r.out().substring(r.out().indexOf("using kernel driver"));
            require(kernelSection.contains(nic + " ") && kernelSection.contains("drv=e1000e"), "e1000e not under kernel driver");
            require(r.out().lines().anyMatch(l -> l.startsWith(routedNic.toString()) && l.endsWith("*Active*")),
                    routedNic + " carries a route but is not *Active*");
        });
        check("devbind refuses the NIC that carries a route and leaves it alone", () -> {
            String before = sysfs.driver(routedNic);
            Run r = devbindProcess("--bind", "vfio-pci", routedNic.toString());
            require(r.rc() == 1, "rc " + r.rc());
            require(r.err().contains("refusing to unbind " + routedNic) && r.err().contains("has an active route"), r.err());
            require(before.equals(sysfs.driver(routedNic)), "driver changed to " + sysfs.driver(routedNic));
        });
        check("VFIO refuses a device bound to a kernel driver, saying how to bind it", () -> {
            try (VfioPciDevice d = VfioPciDevice.open(kernelNic)) {
                throw new AssertionError("opened " + d);
            } catch (VfioException e) {
                require(e.getMessage().contains(kernelNic + " is bound to e1000e, not to vfio-pci: bind it with "
                        + "`./jnic devbind --bind vfio-pci " + kernelNic + "`"), e.getMessage());
            }
        });
        check("devbind binds the e1000e to vfio-pci", () -> {
            Run r = devbind("--bind", "vfio-pci", nic.toString());
            require(r.rc() == 0, "rc " + r.rc() + " " + r.err());
            require("vfio-pci".equals(sysfs.driver(nic)), "driver is " + sysfs.driver(nic));
            require(sysfs.attribute(nic, "driver_override").orElse("").equals("(null)"), "driver_override left set");
        });
        vfio();
        check("devbind moves the e1000e from vfio-pci to uio_pci_generic", () -> {
            Run r = devbind("--bind", "uio_pci_generic", nic.toString());
            require(r.rc() == 0, "rc " + r.rc() + " " + r.err());
            require("uio_pci_generic".equals(sysfs.driver(nic)), "driver is " + sysfs.driver(nic));
        });
        uio();
        check("devbind unbinds the e1000e", () -> {
            Run r = devbind("--unbind", nic.toString());
            require(r.rc() == 0, "rc " + r.rc() + " " + r.err());
            require(sysfs.driver(nic) == null, "still bound to " + sysfs.driver(nic));
            Run s = devbind("--status");
            String none = s.out().substring(s.out().indexOf("using no driver"));
            require(none.contains(nic + " "), "not listed under no driver");
        });
        dpdkDevbindInterop();
        check("devbind gives the e1000e back to its kernel driver", () -> {
            Run r = devbind("--bind", "e1000e", nic.toString());
            require(r.rc() == 0, "rc " + r.rc() + " " + r.err());
            require("e1000e".equals(sysfs.driver(nic)), "driver is " + sysfs.driver(nic));
        });
    }

    /** DPDK's own tool, when the host has Debian's dpdk package (and pciutils): either tool undoes the other. */
    void dpdkDevbindInterop() {
        Path tool = Path.of("/usr/bin/dpdk-devbind.py");
        if (!Files.exists(tool) || !Files.exists(Path.of("/usr/bin/lspci")) || !Files.exists(Path.of("/usr/bin/python3"))) {
            System.out.println("@@T SKIP dpdk-devbind interop: no /usr/bin/dpdk-devbind.py, lspci or python3 on the host "
                    + "(apt-get install dpdk pciutils)");
            return;
        }
        check("dpdk-devbind binds to vfio-pci; devbind sees it and moves it on; dpdk-devbind sees that", () -> {
            Run d = dpdkDevbind("-b", "vfio-pci", nic.toString());
            require(d.rc() == 0, "dpdk-devbind rc " + d.rc());
            require("vfio-pci".equals(sysfs.driver(nic)), "driver is " + sysfs.driver(nic));
            Run ours = devbind("--status");
            String userspace = ours.out().substring(0, ours.out().indexOf("using kernel driver"));
            require(userspace.contains(nic + " ") && userspace.contains("drv=vfio-pci"), "not listed as vfio-pci");
            require(devbind("--bind", "uio_pci_generic", nic.toString()).rc() == 0, "devbind rc");
            Run theirs = dpdkDevbind("--status-dev", "net");
            require(theirs.out().lines().anyMatch(l -> l.startsWith(nic.toString()) && l.contains("drv=uio_pci_generic")),
                    "dpdk-devbind does not show uio_pci_generic");
            require(dpdkDevbind("-u", nic.toString()).rc() == 0, "dpdk-devbind -u");
            require(sysfs.driver(nic) == null, "still bound to " + sysfs.driver(nic));
        });
    }

    Run dpdkDevbind(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "/usr/bin/dpdk-devbind.py"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("dpdk-devbind " + String.join(" ", args) + " did not finish");
        }
        return show("dpdk-devbind.py", args,
                new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8)));
    }

    private static MemorySegment hugepage(int fd) {
        Io.ftruncate(fd, HUGE);
        MemorySegment m = Mman.mmap(HUGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        m.fill((byte) 0);
        return m;
    }

    private static int hugeMemfd(String name) {
        return Mman.memfdCreate(name, Mman.MFD_CLOEXEC | Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB);
    }

    /** Waits for an eventfd to count; returns the count. */
    private static long awaitEvent(int efd, String what) {
        require(Events.pollIn(efd, WAIT_MS), what + " did not arrive within " + WAIT_MS + " ms");
        long n = Events.eventfdRead(efd);
        require(n >= 1, what + ": eventfd read " + n);
        return n;
    }

    void vfio() {
        VfioPciDevice dev;
        try {
            dev = VfioPciDevice.open(nic);
        } catch (RuntimeException e) {
            check("VFIO opens the e1000e", () -> {
                throw e;
            });
            return;
        }
        try (dev) {
            check("VFIO container and group: API version, type1v2 IOMMU, viable group", () -> {
                require(dev.container().apiVersion() == Vfio.API_VERSION, "api");
                require(dev.container().checkExtension(Vfio.VFIO_TYPE1v2_IOMMU), "no type1v2");
                require(dev.container().iommuType() == Vfio.VFIO_TYPE1v2_IOMMU, "type " + dev.container().iommuType());
                require(dev.group().viable() && dev.group().containerSet(), "group status " + dev.group().status());
                require(dev.group().number() == sysfs.iommuGroup(nic), "group number");
                require(dev.dmaAddressing() == io.jnic.pci.PciDevice.DmaAddressing.IOVA, "addressing");
                require((dev.container().iovaPageSizes() & 4096) != 0, "4K IOMMU pages not offered");
            });
            check("VFIO config region and capability walk (MSI-X table against the BARs)", () -> {
                require(dev.configRead(PciConfig.VENDOR_ID, 2) == E1000e.VENDOR_INTEL, "vendor");
                require(dev.configRead(PciConfig.DEVICE_ID, 2) == E1000e.DEVICE_82574L, "device");
                require((dev.configRead(PciConfig.COMMAND, 2) & PciConfig.COMMAND_BUS_MASTER) != 0, "bus master off");
                PciCapabilities caps = PciCapabilities.of(dev);
                System.out.println("@@J capabilities " + caps);
                PciCapability.Msix msix = caps.msix().orElseThrow(() -> new AssertionError("no MSI-X: " + caps));
                require(msix.tableSize() == dev.interruptCount(InterruptType.MSIX),
                        "MSI-X table " + msix.tableSize() + " vs VFIO " + dev.interruptCount(InterruptType.MSIX));
                VfioRegionInfo bar = dev.regionInfo(msix.tableBir());
                require(msix.tableOffset() + 16L * msix.tableSize() <= bar.size(), "table outside " + bar);
                require(caps.pciExpress().isPresent() && caps.msi().isPresent(), "PCIe/MSI caps missing: " + caps);
            });
            check("VFIO BAR0 mmap: STATUS reads a live link, a writable register reads back", () -> {
                PciBar bar = dev.bar(0);
                require(bar.isMapped(0, bar.size()), "BAR0 not mmap'ed: " + bar);
                E1000e.reset(bar);
                int status = bar.read32(E1000e.STATUS);
                System.out.println("@@J VFIO STATUS=0x" + Integer.toHexString(status));
                require((status & (E1000e.STATUS_LU | E1000e.STATUS_FD)) == (E1000e.STATUS_LU | E1000e.STATUS_FD),
                        "STATUS 0x" + Integer.toHexString(status) + " lacks LU|FD");
                int pattern = 0x5a5a5a50; // TDBAL ignores its low 4 bits (16-byte alignment)
                bar.write32(E1000e.TDBAL, pattern);
                require(bar.read32(E1000e.TDBAL) == pattern, "TDBAL read back 0x" + Integer.toHexString(bar.read32(E1000e.TDBAL)));
                bar.write32(E1000e.TDBAL, 0);
            });
            check("VFIO DMA: the e1000e reads a TX ring from a hugepage at an IOVA and writes DD back", () -> {
                int fd = hugeMemfd("testbed-vfio");
                MemorySegment mem = hugepage(fd);
                try {
                    dev.dmaMap(fd, 0, mem, IOVA);
                    PciBar bar = dev.bar(0);
                    E1000e.reset(bar);
                    bar.read32(E1000e.GPTC);
                    require(E1000e.transmitOne(bar, mem, IOVA), "no DD write-back (TDH=" + bar.read32(E1000e.TDH) + ")");
                    require(bar.read32(E1000e.GPTC) == 1, "good packets transmitted counter is not 1");
                    require(dev.container().dmaUnmap(IOVA, HUGE) == HUGE, "unmap size");
                } finally {
                    Mman.munmap(mem);
                    Io.close(fd);
                }
            });
            check("VFIO MSI-X: ICS with a cause enabled in IMS arrives on the vector's eventfd", () -> {
                PciBar bar = dev.bar(0);
                E1000e.reset(bar);
                int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
                try {
                    dev.enableInterrupts(InterruptType.MSIX, new int[] {efd});
                    bar.write32(E1000e.IVAR, (E1000e.IVAR_VALID | 0) << E1000e.IVAR_OTHER_SHIFT); // other causes -> vector 0
                    bar.write32(E1000e.IMS, E1000e.ICR_OTHER);
                    require(Events.eventfdRead(efd) == -1, "interrupt before ICS");
                    bar.write32(E1000e.ICS, E1000e.ICR_OTHER);
                    awaitEvent(efd, "MSI-X vector 0");
                    require((bar.read32(E1000e.ICR) & E1000e.ICR_OTHER) != 0, "ICR lacks the cause");
                } finally {
                    bar.write32(E1000e.IMC, -1);
                    dev.disableInterrupts(InterruptType.MSIX);
                    Io.close(efd);
                }
            });
            check("VFIO MSI: the same cause arrives on the MSI eventfd", () -> {
                PciBar bar = dev.bar(0);
                E1000e.reset(bar);
                require(dev.interruptCount(InterruptType.MSI) >= 1, "no MSI");
                int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
                try {
                    dev.enableInterrupts(InterruptType.MSI, new int[] {efd});
                    bar.write32(E1000e.IMS, E1000e.ICR_LSC);
                    bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                    awaitEvent(efd, "MSI");
                    bar.read32(E1000e.ICR);
                } finally {
                    bar.write32(E1000e.IMC, -1);
                    dev.disableInterrupts(InterruptType.MSI);
                    Io.close(efd);
                }
            });
            check("VFIO INTx: fires, is masked until unmaskIntx, then fires again", () -> {
                PciBar bar = dev.bar(0);
                E1000e.reset(bar);
                require(dev.irqInfo(Vfio.VFIO_PCI_INTX_IRQ_INDEX).automasked(), "INTx not automasked");
                int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
                try {
                    dev.enableInterrupts(InterruptType.INTX, new int[] {efd});
                    bar.write32(E1000e.IMS, E1000e.ICR_LSC);
                    bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                    awaitEvent(efd, "INTx");
                    bar.read32(E1000e.ICR); // clear-on-read: the line drops
                    dev.unmaskIntx();
                    bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                    awaitEvent(efd, "INTx after unmask");
                    bar.read32(E1000e.ICR);
                    dev.unmaskIntx();
                } finally {
                    bar.write32(E1000e.IMC, -1);
                    dev.disableInterrupts(InterruptType.INTX);
                    Io.close(efd);
                }
            });
            check("VFIO fds handed over: a device made from dup'ed fds maps BAR0 and sees the same registers", () -> {
                PciBar bar = dev.bar(0);
                bar.write32(E1000e.TDBAL, 0x12340000);
                try (VfioPciDevice copy = VfioPciDevice.fromFds(dev.name(), Io.dup(dev.containerFd()),
                        dev.container().iommuType(), Io.dup(dev.groupFd()), dev.group().number(), Io.dup(dev.deviceFd()))) {
                    require(copy.bar(0).read32(E1000e.TDBAL) == 0x12340000, "imported BAR0 differs");
                    copy.bar(0).write32(E1000e.TDBAL, 0x43210000);
                    require(copy.configRead(PciConfig.DEVICE_ID, 2) == E1000e.DEVICE_82574L, "config through copy");
                }
                require(bar.read32(E1000e.TDBAL) == 0x43210000, "write through the copy not seen");
                bar.write32(E1000e.TDBAL, 0);
            });
            check("VFIO shared container: a second device's group joins it and DMAs through the same mapping", () -> {
                require(devbind("--bind", "vfio-pci", kernelNic.toString()).rc() == 0, "bind " + kernelNic);
                int fd = hugeMemfd("testbed-shared");
                MemorySegment mem = hugepage(fd);
                try (VfioPciDevice second = VfioPciDevice.open(sysfs, Path.of(Vfio.DEV_VFIO), kernelNic, dev.container())) {
                    require(second.group().number() != dev.group().number(), "same group");
                    require(second.containerFd() == dev.containerFd(), "not the shared container");
                    dev.dmaMap(fd, 0, mem, IOVA); // mapped once, through the first device
                    PciBar bar = second.bar(0);
                    E1000e.reset(bar);
                    require(E1000e.transmitOne(bar, mem, IOVA), "no DD write-back from the second device");
                } finally {
                    dev.dmaUnmap(IOVA, HUGE);
                    Mman.munmap(mem);
                    Io.close(fd);
                }
                require(dev.container().apiVersion() == Vfio.API_VERSION, "closing the second device closed the container");
                require(devbind("--bind", "e1000e", kernelNic.toString()).rc() == 0, "rebind " + kernelNic);
            });
            check("VFIO device reset (VFIO_DEVICE_RESET) leaves a working device", () -> {
                String methods = sysfs.attribute(nic, "reset_method").orElse("");
                System.out.println("@@J reset_method of " + nic + ": " + methods);
                PciBar bar = dev.bar(0);
                if ((dev.deviceFlags() & Vfio.VFIO_DEVICE_FLAGS_RESET) == 0) {
                    try {
                        dev.reset();
                        throw new AssertionError("reset without VFIO_DEVICE_FLAGS_RESET did not throw");
                    } catch (VfioException e) {
                        require(e.getMessage().contains("VFIO offers no reset"), e.getMessage());
                    }
                    return;
                }
                bar.write32(E1000e.TDBAL, 0x7ff00000);
                dev.reset();
                // A function-level reset returns registers to their defaults; QEMU's PM reset does not.
                if (methods.contains("flr")) {
                    require(bar.read32(E1000e.TDBAL) == 0, "TDBAL after FLR 0x" + Integer.toHexString(bar.read32(E1000e.TDBAL)));
                }
                dev.setBusMaster(true);
                require(dev.configRead(PciConfig.DEVICE_ID, 2) == E1000e.DEVICE_82574L, "config after reset");
                require((bar.read32(E1000e.STATUS) & E1000e.STATUS_LU) != 0, "BAR0 after reset");
            });
        }
    }

    void uio() {
        UioPciDevice dev;
        try {
            dev = UioPciDevice.open(nic);
        } catch (RuntimeException e) {
            check("UIO opens the e1000e", () -> {
                throw e;
            });
            return;
        }
        try (dev) {
            check("UIO config through sysfs, bus mastering on, /dev/uioN present", () -> {
                require(dev.configRead(PciConfig.VENDOR_ID, 2) == E1000e.VENDOR_INTEL, "vendor");
                require((dev.configRead(PciConfig.COMMAND, 2) & PciConfig.COMMAND_BUS_MASTER) != 0, "bus master off");
                require(Files.exists(Path.of("/dev/uio" + dev.uioNumber())), "no /dev/uio" + dev.uioNumber());
                require(dev.interruptCount(InterruptType.INTX) == 1 && dev.interruptCount(InterruptType.MSIX) == 0, "irq counts");
                require(dev.dmaAddressing() == io.jnic.pci.PciDevice.DmaAddressing.PHYSICAL, "addressing");
            });
            check("UIO BAR0 mmap of resource0: STATUS and a writable register", () -> {
                PciBar bar = dev.bar(0);
                E1000e.reset(bar);
                int status = bar.read32(E1000e.STATUS);
                System.out.println("@@J UIO STATUS=0x" + Integer.toHexString(status));
                require((status & E1000e.STATUS_LU) != 0, "no link: 0x" + Integer.toHexString(status));
                bar.write32(E1000e.TDBAL, 0x0a0b0c00);
                require(bar.read32(E1000e.TDBAL) == 0x0a0b0c00, "TDBAL read-back");
                bar.write32(E1000e.TDBAL, 0);
            });
            check("UIO DMA by physical address (pagemap): TX descriptor DD written back", () -> {
                int fd = hugeMemfd("testbed-uio");
                MemorySegment mem = hugepage(fd);
                try {
                    long phys = Pagemap.physicalAddress(mem.address());
                    System.out.println("@@J UIO hugepage phys=0x" + Long.toHexString(phys));
                    dev.dmaMap(fd, 0, mem, phys);
                    try {
                        dev.dmaMap(fd, 0, mem, phys + HUGE);
                        throw new AssertionError("a wrong physical address was accepted");
                    } catch (IllegalArgumentException expected) {
                        require(expected.getMessage().contains("is at physical 0x" + Long.toHexString(phys)), expected.getMessage());
                    }
                    PciBar bar = dev.bar(0);
                    E1000e.reset(bar);
                    bar.read32(E1000e.GPTC);
                    require(E1000e.transmitOne(bar, mem, phys), "no DD write-back (TDH=" + bar.read32(E1000e.TDH) + ")");
                    require(bar.read32(E1000e.GPTC) == 1, "good packets transmitted counter is not 1");
                } finally {
                    Mman.munmap(mem);
                    Io.close(fd);
                }
            });
            check("UIO INTx on /dev/uioN, re-enabled through the command register", () -> {
                PciBar bar = dev.bar(0);
                E1000e.reset(bar);
                dev.unmaskIntx();
                bar.write32(E1000e.IMS, E1000e.ICR_LSC);
                bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                long n1 = dev.waitForInterrupt(WAIT_MS);
                require(n1 >= 1, "no interrupt on /dev/uio" + dev.uioNumber());
                require((dev.configRead(PciConfig.COMMAND, 2) & PciConfig.COMMAND_INTX_DISABLE) != 0,
                        "uio_pci_generic did not mask INTx");
                bar.read32(E1000e.ICR);
                dev.unmaskIntx();
                bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                long n2 = dev.waitForInterrupt(WAIT_MS);
                require(n2 > n1, "second interrupt count " + n2 + " not above " + n1);
                bar.read32(E1000e.ICR);
                bar.write32(E1000e.IMC, -1);
            });
            check("UIO INTx forwarded to an eventfd by enableInterrupts", () -> {
                PciBar bar = dev.bar(0);
                int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
                try {
                    dev.enableInterrupts(InterruptType.INTX, new int[] {efd});
                    bar.write32(E1000e.IMS, E1000e.ICR_LSC);
                    bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                    awaitEvent(efd, "forwarded INTx");
                    bar.read32(E1000e.ICR);
                    dev.unmaskIntx();
                    bar.write32(E1000e.ICS, E1000e.ICR_LSC);
                    awaitEvent(efd, "second forwarded INTx");
                    bar.read32(E1000e.ICR);
                } finally {
                    bar.write32(E1000e.IMC, -1);
                    dev.disableInterrupts(InterruptType.INTX);
                    Io.close(efd);
                }
            });
        }
    }
}
