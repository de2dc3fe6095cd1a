package io.jnic.pci;

/**
 * A PCI function address, {@code domain:bus:device.function} (e.g. {@code 0000:03:00.1}). Parsing accepts
 * the full form and the short form {@code bus:device.function} (domain 0), hex digits in either case;
 * {@link #toString} gives the canonical lower-case form that sysfs uses for directory names.
 */
public record PciAddress(int domain, int bus, int device, int function) implements Comparable<PciAddress> {
    public static final int MAX_DOMAIN = 0xffff;
    public static final int MAX_BUS = 0xff;
    public static final int MAX_DEVICE = 0x1f;
    public static final int MAX_FUNCTION = 0x7;

    public PciAddress {
        check("domain", domain, MAX_DOMAIN);
        check("bus", bus, MAX_BUS);
        check("device", device, MAX_DEVICE);
        check("function", function, MAX_FUNCTION);
    }

    /**
     * Parses {@code DDDD:BB:dd.f} or {@code BB:dd.f}. Throws {@link IllegalArgumentException} with a message
     * naming the bad part and the expected form.
     */
    public static PciAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw bad(text, "it is empty");
        }
        String s = text.strip();
        int dot = s.lastIndexOf('.');
        if (dot < 0) {
            throw bad(text, "the '.function' part is missing");
        }
        String[] parts = s.substring(0, dot).split(":", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw bad(text, "expected 2 or 3 ':'-separated fields before the '.', found " + parts.length);
        }
        int i = 0;
        int domain = parts.length == 3 ? field(text, "domain", parts[i++], 4, MAX_DOMAIN) : 0;
        int bus = field(text, "bus", parts[i++], 2, MAX_BUS);
        int dev = field(text, "device", parts[i], 2, MAX_DEVICE);
        int fn = field(text, "function", s.substring(dot + 1), 1, MAX_FUNCTION);
        return new PciAddress(domain, bus, dev, fn);
    }

    /** True when {@code text} parses; for telling addresses from other arguments. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return String.format("%04x:%02x:%02x.%x", domain, bus, device, function);
    }

    /** {@code BB:dd.f}, as lspci prints addresses in domain 0. */
    public String toShortString() {
        return String.format("%02x:%02x.%x", bus, device, function);
    }

    @Override
    public int compareTo(PciAddress o) {
        return Long.compare(packed(), o.packed());
    }

    private long packed() {
        return ((long) domain << 16) | (bus << 8) | (device << 3) | function;
    }

    private static int field(String text, String name, String digits, int maxLen, int max) {
        if (digits.isEmpty()) {
            throw bad(text, "the " + name + " field is empty");
        }
        if (digits.length() > maxLen) {
            throw bad(text, "the " + name + " field '" + digits + "' has more than " + maxLen + " hex digits");
        }
        int v = 0;
        for (int k = 0; k < digits.length(); k++) {
            int d = Character.digit(digits.charAt(k), 16);
            if (d < 0) {
                throw bad(text, "the " + name + " field '" + digits + "' is not hexadecimal");
            }
            v = v * 16 + d;
        }
        if (v > max) {
            throw bad(text, "the " + name + " 0x" + Integer.toHexString(v) + " is above the maximum 0x"
                    + Integer.toHexString(max));
        }
        return v;
    }

    private static void check(String name, int v, int max) {
        if (v < 0 || v > max) {
            throw new IllegalArgumentException("PCI " + name + " " + v + " out of range 0.." + max);
        }
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("invalid PCI address '" + text + "': " + why
                + " (expected domain:bus:device.function like 0000:03:00.1, or bus:device.function like 03:00.1)");
    }
}
