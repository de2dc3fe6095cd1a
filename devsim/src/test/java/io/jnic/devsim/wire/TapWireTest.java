package io.jnic.devsim.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A TAP interface as a wire: frames cross into the kernel and back. Skipped without /dev/net/tun or root. */
class TapWireTest {
    static final class Counting implements FramePort {
        volatile int frames;

        @Override
        public void receive(MemorySegment frame, long offset, int length) {
            frames++;
        }

        @Override
        public String portName() {
            return "test port";
        }
    }

    static long sysfs(String ifname, String stat) throws Exception {
        return Long.parseLong(Files.readString(Path.of("/sys/class/net", ifname, "statistics", stat)).trim());
    }

    static void ip(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "ip " + String.join(" ", args) + ": " + out);
    }

    @Test
    void framesCrossATapInBothDirections() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun: load the tun module");
        assumeTrue("root".equals(System.getProperty("user.name")), "TAP creation needs root (CAP_NET_ADMIN)");
        String name = "jnicdv" + (ProcessHandle.current().pid() % 100000);
        try (TapWire tap = new TapWire(name)) {
            Counting port = new Counting();
            tap.attach(port);
            assertTrue(Files.exists(Path.of("/sys/class/net", name)), "the kernel has interface " + name);
            ip("link", "set", "dev", name, "up");
            long before = sysfs(name, "rx_packets");
            byte[] f = new byte[60];
            for (int i = 0; i < 6; i++) {
                f[i] = (byte) 0xFF;
            }
            f[6] = 0x02;
            f[11] = 0x01;
            f[12] = (byte) 0x88; // a local experimental EtherType (IEEE 802 0x88B5): the kernel just counts it
            f[13] = (byte) 0xB5;
            tap.transmit(MemorySegment.ofArray(f), 0, f.length);
            assertEquals(1, tap.framesToKernel());
            assertEquals(before + 1, sysfs(name, "rx_packets"), "the kernel received the frame");
            // the kernel sends IPv6 neighbour discovery / MLD on a fresh interface: it reaches the port
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (port.frames == 0 && System.nanoTime() < deadline) {
                tap.poll(System.nanoTime());
                Thread.sleep(10);
            }
            assumeTrue(port.frames > 0 || sysfs(name, "tx_packets") == 0,
                    "the kernel sent nothing on the TAP (IPv6 disabled?)");
            assertTrue(port.frames > 0, "frames the kernel sent arrived at the port");
        }
        assertTrue(!Files.exists(Path.of("/sys/class/net", name)), "closing a non-persistent TAP removes it");
    }

    /** Keeps the first ARP frame that arrives. */
    static final class ArpCatcher implements FramePort {
        volatile byte[] arp;

        @Override
        public void receive(MemorySegment frame, long offset, int length) {
            if (arp == null && length >= 14 && frame.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + 12) == 0x08
                    && frame.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + 13) == 0x06) {
                arp = frame.asSlice(offset, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
        }

        @Override
        public String portName() {
            return "test port";
        }
    }

    @Test
    void runtsFromTheKernelArePaddedAsASendersMacWould() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun: load the tun module");
        assumeTrue("root".equals(System.getProperty("user.name")), "TAP creation needs root (CAP_NET_ADMIN)");
        String name = "jnicpd" + (ProcessHandle.current().pid() % 100000);
        try (TapWire tap = new TapWire(name)) {
            ArpCatcher port = new ArpCatcher();
            tap.attach(port);
            ip("addr", "add", "198.18.77.1/24", "dev", name);
            ip("link", "set", "dev", name, "up");
            // a datagram to a neighbour that is not resolved yet makes the kernel send a 42-byte ARP request
            try (java.net.DatagramSocket s = new java.net.DatagramSocket()) {
                s.send(new java.net.DatagramPacket(new byte[1], 1, java.net.InetAddress.getByName("198.18.77.2"), 9));
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (port.arp == null && System.nanoTime() < deadline) {
                tap.poll(System.nanoTime());
                Thread.sleep(5);
            }
            assertTrue(port.arp != null, "the kernel's ARP request arrived");
            assertEquals(TapWire.MIN_WIRE_FRAME, port.arp.length, "padded to 60 bytes (64 with the FCS)");
            for (int i = 42; i < 60; i++) {
                assertEquals(0, port.arp[i], "padding byte " + i + " is zero");
            }
            assertTrue(tap.framesPadded() >= 1);
        }
    }

    @Test
    void badNamesAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TapWire("a/b"));
        assertTrue(e.getMessage().contains("'a/b'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TapWire("x".repeat(16)));
        assertTrue(e.getMessage().contains("1-15 characters"), e.getMessage());
    }
}
