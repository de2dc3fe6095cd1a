/** DMA memory, the shared memory group, rings, mempools and mbufs. */
module io.jnic.memory {
    requires transitive io.jnic.sys;

    exports io.jnic.memory;
    exports io.jnic.memory.mbuf;
    exports io.jnic.memory.ring;
}
