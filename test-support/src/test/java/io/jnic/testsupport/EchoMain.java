package io.jnic.testsupport;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** A child for {@link ChildJvmTest}: says READY, echoes commands, "err X" to stderr, "exit N" ends with N. */
public final class EchoMain {
    private EchoMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("READY " + String.join(" ", args) + " " + System.getProperty("echo.prop"));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String l;
        while ((l = in.readLine()) != null) {
            if (l.startsWith("exit ")) {
                System.exit(Integer.parseInt(l.substring(5)));
            } else if (l.startsWith("err ")) {
                System.err.println(l.substring(4));
                System.err.flush();
            } else if (l.equals("hang")) {
                Thread.sleep(Long.MAX_VALUE);
            } else if (!l.equals("quit")) {
                System.out.println("echo " + l);
                System.out.flush();
            } else {
                return;
            }
        }
    }
}
