package io.jnic.pci.vfiouser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The message flyweight, the VERSION capabilities, the JSON reader and the DMA translation table. */
class CodecTest {
    @Test
    void headerLayoutMatchesTheSpec() {
        VfioUserMessage m = new VfioUserMessage(Arena.ofAuto().allocate(64));
        m.begin(0xbeef, VfioUser.CMD_DEVICE_SET_IRQS, VfioUser.FLAG_TYPE_COMMAND | VfioUser.FLAG_NO_REPLY, 20);
        MemorySegment b = m.buffer();
        assertEquals((short) 0xbeef, b.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
        assertEquals(8, b.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2));
        assertEquals(36, b.get(ValueLayout.JAVA_INT_UNALIGNED, 4));
        assertEquals(0x10, b.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
        assertTrue(m.noReply() && m.isCommand());
        m.beginError(7, VfioUser.CMD_DMA_MAP, 17);
        assertEquals(16, b.get(ValueLayout.JAVA_INT_UNALIGNED, 4));
        assertEquals(0x21, b.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
        assertEquals(17, b.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        assertTrue(m.isReply() && m.isError());
    }

    @Test
    void payloadAccessOutsideTheMessageIsRefused() {
        VfioUserMessage m = new VfioUserMessage(Arena.ofAuto().allocate(64));
        m.begin(1, VfioUser.CMD_REGION_READ, 0, 16);
        m.putU64(8, -1L);
        VfioUserException e = assertThrows(VfioUserException.class, () -> m.u32(14));
        assertEquals("VFIO_USER_REGION_READ: access to payload bytes [14, 18) outside the 16-byte payload", e.getMessage());
        assertThrows(VfioUserException.class, () -> m.u64(-8));
        assertThrows(VfioUserException.class, () -> m.payload(0, Long.MAX_VALUE));
        e = assertThrows(VfioUserException.class, () -> m.begin(1, VfioUser.CMD_REGION_WRITE, 0, 49));
        assertEquals("VFIO_USER_REGION_WRITE: payload of 49 bytes exceeds the message buffer (48 bytes)", e.getMessage());
    }

    @Test
    void capabilitiesRoundTripWithDefaultsForWhatIsAbsent() {
        VfioUserMessage m = new VfioUserMessage(Arena.ofAuto().allocate(256));
        new Capabilities(16, 65536).write(m, 1, VfioUser.FLAG_TYPE_COMMAND);
        String json = new String(m.payload(4, m.payloadLength() - 5).toArray(ValueLayout.JAVA_BYTE));
        assertEquals("{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":65536}}", json);
        assertEquals(0, m.payload(m.payloadLength() - 1, 1).get(ValueLayout.JAVA_BYTE, 0), "NUL-terminated");
        assertEquals(new Capabilities(16, 65536), Capabilities.read(m));
        m.begin(1, VfioUser.CMD_VERSION, 0, 4);
        assertEquals(new Capabilities(1, 1 << 20), Capabilities.read(m), "no JSON: the spec's defaults");
        byte[] other = "{\"capabilities\":{\"migration\":{\"pgsize\":4096},\"twin_socket\":{\"supported\":false}}}".getBytes();
        m.begin(1, VfioUser.CMD_VERSION, 0, 4 + other.length);
        m.payload(4, other.length).copyFrom(MemorySegment.ofArray(other));
        assertEquals(new Capabilities(1, 1 << 20), Capabilities.read(m), "unknown capabilities ignored, no NUL tolerated");
    }

    @Test
    void badCapabilitiesAreNamed() {
        assertEquals("VFIO_USER_VERSION: version data is not JSON: bad JSON at offset 1: expected a member name",
                readCaps("{x}").getMessage());
        assertEquals("VFIO_USER_VERSION: \"capabilities\" is not a JSON object", readCaps("{\"capabilities\":[]}").getMessage());
        assertEquals("VFIO_USER_VERSION: capability \"max_data_xfer_size\" is 0, expected an integer from 1 to 1073741824",
                readCaps("{\"capabilities\":{\"max_data_xfer_size\":0}}").getMessage());
        assertEquals("VFIO_USER_VERSION: capability \"max_msg_fds\" is 1.5, expected an integer from 0 to 253",
                readCaps("{\"capabilities\":{\"max_msg_fds\":1.5}}").getMessage());
    }

    private static VfioUserException readCaps(String json) {
        VfioUserMessage m = new VfioUserMessage(Arena.ofAuto().allocate(256));
        byte[] b = json.getBytes();
        m.begin(1, VfioUser.CMD_VERSION, 0, 4 + b.length);
        m.payload(4, b.length).copyFrom(MemorySegment.ofArray(b));
        return assertThrows(VfioUserException.class, () -> Capabilities.read(m));
    }

    @Test
    void jsonReaderIsStrict() {
        assertEquals(Map.of("a", List.of(1L, -2L, 3.5, true, "x\"y\u00e9")), Json.parse(" {\"a\" : [1,-2,3.5,true,\"x\\\"y\\u00e9\"]} "));
        assertNull(Json.parse("null"));
        for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "tru", "\"abc", "01x", "{\"a\":\"\u0001\"}"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("bad JSON at offset "), e.getMessage());
        }
        String deep = "[".repeat(40) + "]".repeat(40);
        assertEquals("bad JSON at offset 17: nested deeper than 16", assertThrows(IllegalArgumentException.class, () -> Json.parse(deep)).getMessage());
    }

    @Test
    void dmaTranslationFindsRegionsAndChecksBounds() {
        DmaMemory dma = new DmaMemory(8);
        Arena arena = Arena.ofAuto();
        MemorySegment a = arena.allocate(0x1000);
        MemorySegment b = arena.allocate(0x2000);
        MemorySegment c = arena.allocate(0x1000);
        dma.add(0x10000, b, true, null);
        dma.add(0x1000, a, true, null);
        dma.add(0xffff_ffff_ffff_f000L, c, false, null); // the last page of the address space
        assertEquals(3, dma.regionCount());
        assertEquals(0x1000, dma.regions()[0].iova());
        assertEquals(0xffff_ffff_ffff_f000L, dma.regions()[2].iova(), "sorted as unsigned");
        DmaMemory.Region r = dma.find(0x11ffc, 4);
        assertEquals(0x10000, r.iova());
        assertSame(r, dma.find(0x10000, 0x2000), "the last hit");
        assertNull(dma.find(0x11ffd, 4), "crosses the end");
        assertNull(dma.find(0x2000, 1), "between regions");
        assertNull(dma.find(0x1000, -1));
        assertEquals(0xffff_ffff_ffff_f000L, dma.find(-8, 8).iova());
        dma.putLong(0x10008, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, b.get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
        assertEquals(0x55667788, dma.getInt(0x10008));
        assertThrows(IllegalArgumentException.class, () -> dma.putInt(-8, 1), "read-only");
        assertThrows(IllegalArgumentException.class, () -> dma.add(0x1800, arena.allocate(0x1000), true, null));
        assertThrows(IllegalArgumentException.class, () -> dma.add(0x0, arena.allocate(0x20000), true, null), "covers two");
        assertThrows(IllegalArgumentException.class, () -> dma.add(-0x800, arena.allocate(0x1000), true, null), "wraps");
        assertEquals(b.byteSize(), dma.remove(0x10000, 0x2000).size());
        assertNull(dma.remove(0x10000, 0x2000));
        assertNull(dma.find(0x10008, 4), "gone, and not served from the cache");
        MemorySegment out = arena.allocate(16);
        dma.read(0x1000, out, 0, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dma.write(0x1ff8, out, 0, 16));
        assertTrue(e.getMessage().startsWith("DMA to [0x1ff8, +16) outside the memory the client mapped [[0x1000, 0x2000)"), e.getMessage());
    }

    @Test
    void dmaTableHasALimit() {
        DmaMemory dma = new DmaMemory(2);
        dma.add(0, Arena.ofAuto().allocate(16), true, null);
        dma.add(16, Arena.ofAuto().allocate(16), true, null);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> dma.add(32, Arena.ofAuto().allocate(16), true, null));
        assertEquals("already 2 DMA regions (at most 2)", e.getMessage());
    }
}
