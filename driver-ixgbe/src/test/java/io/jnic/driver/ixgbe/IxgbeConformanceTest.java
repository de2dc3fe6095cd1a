package io.jnic.driver.ixgbe;

import io.jnic.ethdev.EthDevice;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.testsupport.ethdev.EthDeviceConformance;
import java.nio.file.Path;

/**
 * The conformance suite against the ixgbe driver on a devsim 82599 whose wire loops every frame back to its own
 * RX (the {@link Rig}: devsim over vfio-user in this JVM). The device computes the RSS hash, checked against the
 * oracle; its octet counters (GORC/GOTC) include the 4-byte CRC.
 */
class IxgbeConformanceTest extends EthDeviceConformance {
    @Override
    protected Bench open(Path dir) {
        Rig rig = new Rig(dir, 1, "loop", 8192);
        EthDevice port;
        try {
            port = rig.probe(0);
        } catch (RuntimeException e) {
            rig.close();
            throw e;
        }
        return new Bench() {
            @Override
            public EthDevice port() {
                return port;
            }

            @Override
            public Mempool pool() {
                return rig.pool;
            }

            @Override
            public boolean loopsBack() {
                return true;
            }

            @Override
            public boolean computesRssHash() {
                return true;
            }

            @Override
            public long countedBytes(int length) {
                return length + 4; // the 82599's good-octet counters count the CRC
            }

            @Override
            public void close() {
                rig.close();
            }
        };
    }
}
