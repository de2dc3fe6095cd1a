package io.jnic.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {
    /** A JDK look-alike: bin/java (executable) and a release file. */
    private static Path jdk(Path dir, String version) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = Files.writeString(bin.resolve("java"), "#!/bin/sh\n");
        assertTrue(java.toFile().setExecutable(true));
        Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n");
        return dir;
    }

    @Test
    void featureReleasesOfOldAndNewVersionStrings() {
        assertEquals(8, Launcher.feature("1.8.0_402"));
        assertEquals(17, Launcher.feature("17.0.12"));
        assertEquals(25, Launcher.feature("25"));
        assertEquals(25, Launcher.feature("25-ea"));
        assertEquals(0, Launcher.feature("x"));
        assertEquals(0, Launcher.feature(null));
    }

    @Test
    void theClassIsJava8Bytecode() throws IOException {
        // what lets an old java run it: class file major version 52
        byte[] c;
        try (var in = Launcher.class.getResourceAsStream("Launcher.class")) {
            c = in.readAllBytes();
        }
        assertEquals(52, ((c[6] & 0xff) << 8) | (c[7] & 0xff));
    }

    @Test
    void aJdkOfTheNeededReleaseIsFoundAndNamedWithTheCommand(@TempDir Path dir) throws IOException {
        Path java17 = jdk(dir.resolve("jvm/java-17"), "17.0.12");
        Path java25 = jdk(dir.resolve("jvm/temurin-25"), "25.0.1");
        assertNull(Launcher.check(java17, 25));
        assertEquals("25.0.1", Launcher.check(java25, 25).version);
        // JAVA_HOME wins when it is new enough
        List<String> looked = new ArrayList<>();
        assertEquals(java25, Launcher.find(25, java25.toString(), "", dir.toString(), looked).home);
        String msg = Launcher.tooOld("apps/target/l2fwd-mp.jar", 25, "17.0.12", java17.toString(), java25.toString(),
                "", dir.toString());
        assertTrue(msg.startsWith("apps/target/l2fwd-mp.jar needs Java 25 or newer; this is Java 17.0.12 (" + java17
                + ").\nJava 25.0.1 was found at " + java25 + ": run\n  " + java25 + "/bin/java -jar "
                + "apps/target/l2fwd-mp.jar ...\n"), msg);
    }

    @Test
    void withoutOneEveryPlaceLookedAtIsListed(@TempDir Path dir) throws IOException {
        Path java17 = jdk(dir.resolve("old"), "17.0.12");
        Path bin = java17.resolve("bin");
        String msg = Launcher.tooOld("devsim.jar", 99, "17.0.12", java17.toString(), java17.toString(), bin.toString(),
                dir.toString());
        assertTrue(msg.contains("No JDK 99 or newer was found. Looked at:\n  - JAVA_HOME=" + java17 + "\n  - java on "
                + "PATH (" + java17.toRealPath() + ")\n  - /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "
                + "~/.sdkman/candidates/java/* ~/.jdks/*\n"), msg);
        assertTrue(msg.endsWith("Install one (e.g. Temurin 99 under /usr/lib/jvm) or set JAVA_HOME to it.\n"), msg);
    }

    @Test
    void jdksUnderTheHomeDirectoryAreFound(@TempDir Path dir) throws IOException {
        Path j = jdk(dir.resolve(".jdks/jdk-999"), "999");
        assertEquals(j, Launcher.find(999, null, null, dir.toString(), new ArrayList<>()).home);
    }
}
