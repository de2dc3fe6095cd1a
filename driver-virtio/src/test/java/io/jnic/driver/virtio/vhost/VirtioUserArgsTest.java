package io.jnic.driver.virtio.vhost;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class VirtioUserArgsTest {
    @Test
    void parsesDpdkStyleVdevStrings() {
        VirtioUserArgs a = VirtioUserArgs.parse("virtio_user0,path=/tmp/vh.sock,queues=4,queue_size=1024,mac=02:AA:bb:0:1:ff");
        assertEquals("virtio_user0", a.name());
        assertEquals(Path.of("/tmp/vh.sock"), a.path());
        assertEquals(4, a.queues());
        assertEquals(1024, a.queueSize());
        assertArrayEquals(new byte[] {2, (byte) 0xaa, (byte) 0xbb, 0, 1, (byte) 0xff}, a.mac().orElseThrow());
        VirtioUserArgs d = VirtioUserArgs.parse("virtio_user12,path=/x");
        assertEquals(1, d.queues());
        assertEquals(VirtioUserArgs.DEFAULT_QUEUE_SIZE, d.queueSize());
        assertTrue(d.mac().isEmpty());
        assertFalse(d.packedVq(), "split rings unless packed_vq=1 (DPDK's default too)");
        assertTrue(VirtioUserArgs.parse("virtio_user0,path=/x,packed_vq=1").packedVq());
        assertFalse(VirtioUserArgs.parse("virtio_user0,path=/x,packed_vq=0").packedVq());
        assertTrue(d.inOrder(), "IN_ORDER offered unless in_order=0 (DPDK's default: 1)");
        assertFalse(VirtioUserArgs.parse("virtio_user0,path=/x,in_order=0").inOrder());
        assertTrue(VirtioUserArgs.parse("virtio_user0,path=/x,in_order=1").inOrder());
    }

    private static String error(String vdev) {
        return assertThrows(IllegalArgumentException.class, () -> VirtioUserArgs.parse(vdev)).getMessage();
    }

    @Test
    void badStringsSayWhatIsWrong() {
        assertEquals("--vdev 'net_vhost0,iface=/x': the device name 'net_vhost0' must be virtio_user followed by a"
                + " number, e.g. virtio_user0", error("net_vhost0,iface=/x"));
        assertEquals("--vdev 'virtio_user0,queues=2': path=<vhost-user socket> is required", error("virtio_user0,queues=2"));
        assertEquals("--vdev 'virtio_user0,path=/x,queues=0': queues=0 must be 1..128", error("virtio_user0,path=/x,queues=0"));
        assertEquals("--vdev 'virtio_user0,path=/x,queues=two': queues=two is not a number",
                error("virtio_user0,path=/x,queues=two"));
        assertEquals("--vdev 'virtio_user0,path=/x,queue_size=100': queue_size=100 must be a power of two in 2..32768",
                error("virtio_user0,path=/x,queue_size=100"));
        assertEquals("--vdev 'virtio_user0,path=/x,iface=/y': unknown key 'iface' (supported: path, queues, queue_size, mac,"
                + " packed_vq, in_order)",
                error("virtio_user0,path=/x,iface=/y"));
        assertEquals("--vdev 'virtio_user0,path=/x,path=/y': key 'path' given twice", error("virtio_user0,path=/x,path=/y"));
        assertEquals("--vdev 'virtio_user0,path': 'path' is not key=value (keys: path, queues, queue_size, mac, packed_vq,"
                + " in_order)",
                error("virtio_user0,path"));
        assertEquals("--vdev 'virtio_user0,path=/x,mac=01:00:00:00:00:01': mac=01:00:00:00:00:01 is a multicast address",
                error("virtio_user0,path=/x,mac=01:00:00:00:00:01"));
        assertEquals("--vdev 'virtio_user0,path=/x,mac=02:00:00': mac=02:00:00 is not six hex bytes like 02:00:00:00:00:01",
                error("virtio_user0,path=/x,mac=02:00:00"));
        assertEquals("--vdev 'virtio_user0,path=/x,packed_vq=2': packed_vq=2 must be 0 (split rings) or 1 (packed rings)",
                error("virtio_user0,path=/x,packed_vq=2"));
        assertEquals("--vdev 'virtio_user0,path=/x,in_order=yes': in_order=yes is not a number",
                error("virtio_user0,path=/x,in_order=yes"));
        assertEquals("--vdev 'virtio_user0,path=/x,in_order=2': in_order=2 must be 0 (buffers used in any order) or 1"
                + " (VIRTIO_F_IN_ORDER when the backend offers it)", error("virtio_user0,path=/x,in_order=2"));
        assertEquals("empty --vdev: expected virtio_user0,path=/path/to/vhost.sock[,queues=N]", error(" "));
    }
}
