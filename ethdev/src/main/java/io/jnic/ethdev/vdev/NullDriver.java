package io.jnic.ethdev.vdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.VdevDriver;
import java.util.Map;
import java.util.Set;

/** "net_null{N}[,size=BYTES][,copy=0|1]": see {@link NullDevice}. */
public final class NullDriver implements VdevDriver {
    public static final String NAME = "net_null";
    public static final int DEFAULT_SIZE = 64;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> keys() {
        return Set.of("size", "copy");
    }

    @Override
    public EthDevice create(String instanceName, Map<String, String> args, PortContext ctx) {
        int size = intArg(instanceName, args, "size", DEFAULT_SIZE, 14, 9600);
        int copy = intArg(instanceName, args, "copy", 0, 0, 1);
        return new NullDevice(instanceName, size, copy == 1, ctx);
    }

    private static int intArg(String inst, Map<String, String> args, String key, int dflt, int min, int max) {
        String v = args.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(inst + ": " + key + "=" + v + " must be a number in " + min + ".." + max);
        }
    }
}
