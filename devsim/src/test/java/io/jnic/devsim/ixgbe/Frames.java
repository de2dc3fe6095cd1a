package io.jnic.devsim.ixgbe;

import java.nio.ByteBuffer;

/** Builds test frames. */
final class Frames {
    private Frames() {
    }

    static byte[] ipv4(byte[] dst, int[] srcIp, int[] dstIp, int proto, int sport, int dport, int size) {
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(dst).put(new byte[] {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (size - 14)).putShort((short) 0x1234).putShort((short) 0)
                .put((byte) 64).put((byte) proto).putShort((short) 0);
        for (int x : srcIp) {
            b.put((byte) x);
        }
        for (int x : dstIp) {
            b.put((byte) x);
        }
        b.putShort((short) sport).putShort((short) dport);
        return b.array();
    }

    static byte[] ipv6(byte[] dst, byte[] srcIp, byte[] dstIp, int next, int sport, int dport, int size) {
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(dst).put(new byte[] {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}).putShort((short) 0x86DD);
        b.putInt(0x60000000).putShort((short) (size - 54)).put((byte) next).put((byte) 64);
        b.put(srcIp).put(dstIp);
        b.putShort((short) sport).putShort((short) dport);
        return b.array();
    }

    static byte[] broadcast(int size) {
        byte[] f = ipv4(new byte[] {-1, -1, -1, -1, -1, -1}, new int[] {10, 0, 0, 1}, new int[] {10, 0, 0, 2}, 17, 1, 2, size);
        return f;
    }
}
