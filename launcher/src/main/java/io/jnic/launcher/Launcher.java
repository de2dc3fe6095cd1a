package io.jnic.launcher;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The Main-Class of every jnic jar. Compiled for Java 8 (class file version 52) so that any java that can open the
 * jar runs it: on a Java older than the jar needs it says which JDK is needed and where one was found (the places
 * bin/find-jdk.sh looks), and exits 1; otherwise it calls the real main, named in the manifest, by reflection.
 *
 * <p>Manifest attributes: {@value #MAIN_ATTRIBUTE} (the app's class) and {@value #JAVA_ATTRIBUTE} (the feature
 * release it needs). Java 8 code only, no dependencies.
 */
public final class Launcher {
    static final String MAIN_ATTRIBUTE = "Jnic-Main-Class";
    static final String JAVA_ATTRIBUTE = "Jnic-Java-Release";
    /** The JDK search path of bin/find-jdk.sh, after JAVA_HOME and the java on the PATH. */
    static final String[] JDK_DIRS = {"/usr/lib/jvm", "/usr/java", "/opt/java", "/opt/jdk*", "~/.sdkman/candidates/java",
        "~/.jdks"};

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        Manifest mf = ownManifest();
        Attributes a = mf == null ? null : mf.getMainAttributes();
        String main = a == null ? null : a.getValue(MAIN_ATTRIBUTE);
        if (main == null) {
            System.err.println("jnic launcher: this jar's manifest names no " + MAIN_ATTRIBUTE + ": rebuild it with "
                    + "./jnic build");
            System.exit(1);
        }
        int needed = parseRelease(a.getValue(JAVA_ATTRIBUTE));
        int running = feature(System.getProperty("java.specification.version"));
        if (needed > 0 && running < needed) {
            System.err.print(tooOld(jarName(), needed, System.getProperty("java.version"),
                    System.getProperty("java.home"), System.getenv("JAVA_HOME"), System.getenv("PATH"),
                    System.getProperty("user.home")));
            System.exit(1);
        }
        Method m = Class.forName(main).getMethod("main", String[].class);
        try {
            m.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw Launcher.<Exception>rethrow(e.getCause()); // the app's own exception, as if called directly
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T rethrow(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * The message for a Java that is too old: what is needed, what runs, where a JDK of the needed release is and
     * the command that uses it, or where none was found.
     */
    static String tooOld(String jar, int needed, String runningVersion, String runningHome,
            String javaHome, String path, String userHome) {
        StringBuilder sb = new StringBuilder();
        sb.append(jar).append(" needs Java ").append(needed).append(" or newer; this is Java ").append(runningVersion)
                .append(" (").append(runningHome).append(").\n");
        List<String> looked = new ArrayList<String>();
        JdkFound found = find(needed, javaHome, path, userHome, looked);
        if (found != null) {
            sb.append("Java ").append(found.version).append(" was found at ").append(found.home).append(": run\n  ")
                    .append(found.home).append(File.separator).append("bin").append(File.separator).append("java -jar ")
                    .append(jar).append(" ...\nor set JAVA_HOME to it (./jnic finds it by itself).\n");
        } else {
            sb.append("No JDK ").append(needed).append(" or newer was found. Looked at:\n");
            for (String l : looked) {
                sb.append("  - ").append(l).append('\n');
            }
            sb.append("Install one (e.g. Temurin ").append(needed).append(" under /usr/lib/jvm) or set JAVA_HOME to it.\n");
        }
        return sb.toString();
    }

    static final class JdkFound {
        final Path home;
        final String version;

        JdkFound(Path home, String version) {
            this.home = home;
            this.version = version;
        }
    }

    /**
     * The newest JDK of release {@code needed} or later, looking where bin/find-jdk.sh does: JAVA_HOME, the java
     * on the PATH, then {@link #JDK_DIRS}; null when there is none. {@code looked} gets what was searched.
     */
    static JdkFound find(int needed, String javaHome, String path, String userHome, List<String> looked) {
        if (javaHome != null && !javaHome.isEmpty()) {
            looked.add("JAVA_HOME=" + javaHome);
            JdkFound f = check(Paths.get(javaHome), needed);
            if (f != null) {
                return f;
            }
        }
        JdkFound best = null;
        Path onPath = javaOnPath(path);
        if (onPath != null) {
            looked.add("java on PATH (" + onPath + ")");
            best = check(onPath, needed);
        } else {
            looked.add("java on PATH (none)");
        }
        StringBuilder dirs = new StringBuilder();
        for (String d : JDK_DIRS) {
            dirs.append(dirs.length() == 0 ? "" : " ").append(d).append("/*");
            for (Path cand : candidates(d, userHome)) {
                JdkFound f = check(cand, needed);
                if (f != null && (best == null || feature(f.version) > feature(best.version))) {
                    best = f;
                }
            }
        }
        looked.add(dirs.toString().replace("/opt/jdk*/*", "/opt/jdk*"));
        return best;
    }

    /** The JDK homes a search-path entry stands for: its subdirectories, or the /opt/jdk* directories. */
    private static List<Path> candidates(String entry, String userHome) {
        List<Path> out = new ArrayList<Path>();
        String e = entry.startsWith("~/") ? (userHome == null ? null : userHome + entry.substring(1)) : entry;
        if (e == null) {
            return out;
        }
        boolean glob = e.endsWith("*");
        File dir = glob ? new File(e).getParentFile() : new File(e);
        String prefix = glob ? new File(e).getName().replace("*", "") : "";
        File[] kids = dir.listFiles();
        if (kids == null) {
            return out;
        }
        Arrays.sort(kids);
        for (File k : kids) {
            if (k.isDirectory() && k.getName().startsWith(prefix)) {
                out.add(k.toPath());
            }
        }
        return out;
    }

    /** The Java home of the first executable "java" on {@code path}, links resolved; null when there is none. */
    private static Path javaOnPath(String path) {
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            File java = new File(dir.isEmpty() ? "." : dir, "java");
            if (java.isFile() && java.canExecute()) {
                try {
                    Path real = java.toPath().toRealPath();
                    Path bin = real.getParent();
                    return bin == null || bin.getParent() == null ? null : bin.getParent();
                } catch (IOException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** {@code home} as a JDK of release {@code needed} or later (bin/java and its release file), else null. */
    static JdkFound check(Path home, int needed) {
        if (!Files.isExecutable(home.resolve("bin").resolve("java"))) {
            return null;
        }
        String v = releaseVersion(home);
        return v != null && feature(v) >= needed ? new JdkFound(home, v) : null;
    }

    /** JAVA_VERSION of {@code home}/release ("25.0.1"), or null. */
    static String releaseVersion(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"), StandardCharsets.UTF_8)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return line.substring("JAVA_VERSION=".length()).replace("\"", "").trim();
                }
            }
        } catch (IOException e) {
            // not a JDK
        }
        return null;
    }

    /** The feature release of a version string: "1.8.0_402" is 8, "17.0.12" is 17, "25" is 25; 0 if unreadable. */
    static int feature(String version) {
        if (version == null) {
            return 0;
        }
        String v = version.startsWith("1.") ? version.substring(2) : version;
        int end = 0;
        while (end < v.length() && Character.isDigit(v.charAt(end))) {
            end++;
        }
        try {
            return end == 0 ? 0 : Integer.parseInt(v.substring(0, end));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static int parseRelease(String s) {
        return s == null ? 0 : feature(s.trim());
    }

    /** The manifest of the jar this class was loaded from. */
    private static Manifest ownManifest() throws IOException {
        URL u = Launcher.class.getProtectionDomain().getCodeSource().getLocation();
        File f;
        try {
            f = new File(u.toURI());
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            return null;
        }
        if (!f.isFile()) {
            return null;
        }
        try (JarFile jar = new JarFile(f)) {
            return jar.getManifest();
        }
    }

    /** The jar as the user named it, for the message ("apps/target/l2fwd-mp.jar" from "java -jar ..."). */
    private static String jarName() {
        String cmd = System.getProperty("sun.java.command");
        if (cmd != null && !cmd.isEmpty()) {
            String first = cmd.split(" ")[0];
            if (first.endsWith(".jar")) {
                return first;
            }
        }
        URL u = Launcher.class.getProtectionDomain().getCodeSource().getLocation();
        return new File(u.getPath()).getName();
    }
}
