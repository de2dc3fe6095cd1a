package io.jnic.memory.mbuf;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What a {@link Mempool} is made of (the arguments of DPDK's {@code rte_pktmbuf_pool_create}).
 *
 * @param name      1..31 UTF-8 bytes, stored in the pool header
 * @param poolId    1..{@link Mempool#MAX_POOL_ID}, unique among the pools the processes share (it is part of every
 *                  handle; id 0 is reserved so that handle 0 means "no mbuf")
 * @param count     number of mbufs
 * @param cacheSize objects per lcore cache, 0..{@link Mempool#CACHE_MAX_SIZE}, 0 = no caches
 * @param maxLcores how many lcore caches to reserve (lcore ids 0..maxLcores-1), 1..{@link Mempool#MAX_LCORES}
 * @param headroom  bytes before the data at alloc (RTE_PKTMBUF_HEADROOM, default 128)
 * @param dataRoom  bytes after the headroom (default 2048)
 * @param flags     {@link Mempool#F_SP_PUT}, {@link Mempool#F_SC_GET}
 */
public record MempoolConfig(String name, int poolId, int count, int cacheSize, int maxLcores, int headroom, int dataRoom,
        int flags) {

    public MempoolConfig {
        Objects.requireNonNull(name, "name");
        int nameLen = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameLen == 0 || nameLen > Mempool.NAME_MAX || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("mempool name '" + name + "' is " + nameLen + " bytes in UTF-8; it must be 1.."
                    + Mempool.NAME_MAX + " bytes without NUL");
        }
        if (poolId < 1 || poolId > Mempool.MAX_POOL_ID) {
            throw new IllegalArgumentException("mempool id " + poolId + " out of range 1.." + Mempool.MAX_POOL_ID
                    + " (0 is reserved: handle 0 means no mbuf)");
        }
        if (count < 1 || count > Mempool.MAX_OBJECTS) {
            throw new IllegalArgumentException("mempool count " + count + " out of range 1.." + Mempool.MAX_OBJECTS);
        }
        if (cacheSize < 0 || cacheSize > Mempool.CACHE_MAX_SIZE) {
            throw new IllegalArgumentException("cache size " + cacheSize + " out of range 0.." + Mempool.CACHE_MAX_SIZE);
        }
        if (cacheSize > 0 && Mempool.flushThreshold(cacheSize) > count) {
            throw new IllegalArgumentException("cache size " + cacheSize + " is too large for " + count
                    + " mbufs: the flush threshold (1.5 x cache size = " + Mempool.flushThreshold(cacheSize)
                    + ") must not exceed the count (DPDK's rule); use a smaller cache or more mbufs");
        }
        if (maxLcores < 1 || maxLcores > Mempool.MAX_LCORES) {
            throw new IllegalArgumentException("maxLcores " + maxLcores + " out of range 1.." + Mempool.MAX_LCORES);
        }
        if (headroom < 0 || dataRoom < 0 || (long) headroom + dataRoom > 0xFFFF) {
            throw new IllegalArgumentException("headroom " + headroom + " + data room " + dataRoom
                    + " must be non-negative and fit the 16-bit buf_len (at most 65535)");
        }
        if ((flags & ~(Mempool.F_SP_PUT | Mempool.F_SC_GET)) != 0) {
            throw new IllegalArgumentException(String.format("unknown mempool flags 0x%x (known: F_SP_PUT 0x1, F_SC_GET 0x2)",
                    flags));
        }
    }

    /** A pool with DPDK's defaults: cache 256 (or less for small pools), 128 lcores, headroom 128, data room 2048. */
    public static MempoolConfig of(String name, int poolId, int count) {
        int cache = Math.min(Mempool.DEFAULT_CACHE_SIZE, count * 2 / 3);
        return new MempoolConfig(name, poolId, count, cache, Mempool.MAX_LCORES, Mempool.DEFAULT_HEADROOM,
                Mempool.DEFAULT_DATA_ROOM, 0);
    }

    public MempoolConfig withCacheSize(int size) {
        return new MempoolConfig(name, poolId, count, size, maxLcores, headroom, dataRoom, flags);
    }

    public MempoolConfig withMaxLcores(int n) {
        return new MempoolConfig(name, poolId, count, cacheSize, n, headroom, dataRoom, flags);
    }

    public MempoolConfig withHeadroom(int bytes) {
        return new MempoolConfig(name, poolId, count, cacheSize, maxLcores, bytes, dataRoom, flags);
    }

    public MempoolConfig withDataRoom(int bytes) {
        return new MempoolConfig(name, poolId, count, cacheSize, maxLcores, headroom, bytes, flags);
    }

    public MempoolConfig withFlags(int f) {
        return new MempoolConfig(name, poolId, count, cacheSize, maxLcores, headroom, dataRoom, f);
    }
}
