package io.jnic.pci.vfiouser;

import java.nio.file.Path;

/** Serves {@link TestDeviceModel} on the socket path given as argument until stdin closes (child-JVM tests). */
public final class TestDeviceServerMain {
    private TestDeviceServerMain() {
    }

    public static void main(String[] args) throws Exception {
        TestDeviceModel model = new TestDeviceModel();
        VfioUserServer server = new VfioUserServer(Path.of(args[0]), model);
        try {
            System.out.println("ready");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close our stdin
            }
        } finally {
            server.close();
            model.release();
        }
    }
}
