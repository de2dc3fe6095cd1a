package io.jnic.driver.virtio.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.TestBuffers;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.sys.Proc;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees when the backend lacks features, refuses them, has too few queues or answers garbage. */
class VirtioUserErrorsTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    static final long GOOD = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNetSpec.F_MRG_RXBUF)
            | Virtio.bit(VirtioNetSpec.F_MQ) | Virtio.bit(Virtio.VHOST_USER_F_PROTOCOL_FEATURES);
    static final long MQ_AND_ACK = Virtio.bit(VhostUserClient.PROTOCOL_F_MQ) | Virtio.bit(VhostUserClient.PROTOCOL_F_REPLY_ACK);

    @TempDir
    Path dir;
    MemoryGroup memory;
    TestBuffers buffers;
    Path sock;

    @BeforeEach
    void memory() {
        memory = MemoryGroup.create(MemoryConfig.builder()
                .filePrefix("ve" + Proc.getpid() + "_" + COUNTER.incrementAndGet() + "_").runtimeDir(dir.resolve("run"))
                .noHuge().iovaMode(IovaMode.ASSIGNED).size(4L << 20).build());
        buffers = new TestBuffers(memory.reserve("bufs", 512L * 2048, 4096), 2048);
        sock = dir.resolve("fake.sock");
    }

    @AfterEach
    void close() {
        memory.close();
    }

    private VirtioNet open(int queues) {
        VirtioUserTransport t = VirtioUserTransport.open(VirtioUserArgs.parse("virtio_user0,path=" + sock + ",queues="
                + queues), memory);
        try {
            return VirtioNet.open(t, memory, buffers, new VirtioNet.Config("ve", queues, 64, true));
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    @Test
    void deviceWithoutVersion1IsRefusedBeforeAnythingIsSent() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD & ~Virtio.bit(Virtio.F_VERSION_1), MQ_AND_ACK)) {
            VirtioException e = assertThrows(VirtioException.class, () -> open(1));
            assertEquals("virtio-user:" + sock + ": the device lacks required features VERSION_1 (it offers"
                    + " MAC|MRG_RXBUF|STATUS|CTRL_VQ|CTRL_RX|MQ); jnic drives virtio 1.x devices only: use a modern"
                    + " device (QEMU: disable-legacy=on or a current vhost-user backend)", e.getMessage());
            assertFalse(be.requests.contains(VhostUserClient.SET_FEATURES), "no SET_FEATURES sent");
        }
        assertEquals(buffers.capacity(), buffers.available());
    }

    @Test
    void backendRefusingTheFeatures() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK)) {
            be.refuse = VhostUserClient.SET_FEATURES;
            VirtioException e = assertThrows(VirtioException.class, () -> open(1));
            assertEquals("virtio-user:" + sock + ": the backend refused the features MRG_RXBUF|MQ|"
                    + "PROTOCOL_FEATURES(vhost-user)|VERSION_1: the vhost-user backend at " + sock + " refused"
                    + " SET_FEATURES (status 1); its log says why", e.getMessage());
        }
    }

    @Test
    void backendRefusingTheMemoryTable() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK)) {
            be.refuse = VhostUserClient.SET_MEM_TABLE;
            VirtioException e = assertThrows(VirtioException.class, () -> open(1));
            assertEquals("the vhost-user backend at " + sock + " refused SET_MEM_TABLE (status 1); its log says why",
                    e.getMessage());
        }
        assertEquals(buffers.capacity(), buffers.available(), "receive buffers returned after the failed start");
    }

    @Test
    void backendWithFewerQueuesThanAsked() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK)) {
            be.queueNum = 1;
            VirtioException e = assertThrows(VirtioException.class, () -> open(2));
            assertEquals("virtio-user " + sock + ": 2 queue pairs requested (queues=2) but the backend offers 1: start"
                    + " it with more queues (net_vhost: queues=2) or ask for fewer", e.getMessage());
        }
    }

    @Test
    void malformedReplyIsCaught() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK)) {
            be.garble = VhostUserClient.GET_FEATURES;
            VirtioException e = assertThrows(VirtioException.class, () -> open(1));
            assertEquals("vhost-user backend at " + sock + ": malformed reply to GET_FEATURES: request 2, flags 0x5,"
                    + " size 8 in 20 bytes (expected 8). Restart the backend, then restart the port", e.getMessage());
        }
    }

    @Test
    void aBackendThatNeverAnswersTimesOut() throws Exception {
        int saved = VhostUserClient.replyTimeoutMillis;
        VhostUserClient.replyTimeoutMillis = 300;
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK)) {
            be.silent = VhostUserClient.GET_QUEUE_NUM;
            VirtioException e = assertThrows(VirtioException.class, () -> open(1));
            assertEquals("vhost-user backend at " + sock + ": no reply to GET_QUEUE_NUM within 300 ms (is the backend"
                    + " stuck?). Restart the backend, then restart the port", e.getMessage());
        } finally {
            VhostUserClient.replyTimeoutMillis = saved;
        }
    }

    @Test
    void aFakeBackendThatAcceptsEverythingGetsTheWholeSequence() throws Exception {
        try (FakeBackend be = new FakeBackend(sock, GOOD, MQ_AND_ACK); VirtioNet net = open(1)) {
            assertTrue(net.linkUp());
            assertEquals(java.util.List.of(VhostUserClient.GET_FEATURES, VhostUserClient.GET_PROTOCOL_FEATURES,
                    VhostUserClient.SET_PROTOCOL_FEATURES, VhostUserClient.GET_QUEUE_NUM, VhostUserClient.SET_OWNER,
                    VhostUserClient.SET_FEATURES, VhostUserClient.SET_MEM_TABLE,
                    VhostUserClient.SET_VRING_CALL, VhostUserClient.SET_VRING_NUM, VhostUserClient.SET_VRING_BASE,
                    VhostUserClient.SET_VRING_ADDR, VhostUserClient.SET_VRING_KICK,
                    VhostUserClient.SET_VRING_CALL, VhostUserClient.SET_VRING_NUM, VhostUserClient.SET_VRING_BASE,
                    VhostUserClient.SET_VRING_ADDR, VhostUserClient.SET_VRING_KICK,
                    VhostUserClient.SET_VRING_ENABLE, VhostUserClient.SET_VRING_ENABLE), be.requests);
        }
    }
}
