package io.jnic.multiproc.telemetry;

import java.util.List;
import java.util.Map;

/**
 * The JSON text of telemetry replies, written as DPDK's telemetry writes it (no blanks, the request's command as
 * the only key: {@code {"/ethdev/stats":{...}}}), bounded by {@link Telemetry#MAX_OUTPUT_LEN}: an entry of a
 * dictionary or an array that does not fit is left out, with everything after it, and the reply stays valid JSON
 * (as DPDK's rte_tel_json helpers refuse an entry that would overflow the buffer).
 *
 * <p>Values: {@code null}, {@link String}, {@link Boolean}, any {@link Number} (integers as they are, others as
 * decimals), {@link Map} (keys as strings, in the map's order), {@link List}. Strings are escaped (quotes,
 * backslashes, control characters), so a garbage command echoed in a reply cannot break the JSON.
 */
final class TelemetryJson {
    private TelemetryJson() {
    }

    /** {@code {"<cmd>":<value>}} in at most {@code max} characters (the command is cut to fit if it must). */
    static String reply(String cmd, Object value, int max) {
        StringBuilder sb = new StringBuilder(256);
        sb.append('{');
        string(sb, cmd);
        sb.append(':');
        int limit = max - 1; // the closing brace
        if (!value(sb, value, limit)) {
            sb.append("null");
        }
        sb.append('}');
        return sb.toString();
    }

    /**
     * Appends {@code v} if it fits in {@code limit} characters overall; containers are filled as far as they fit.
     * Returns false (and leaves {@code sb} as it was) when not even an empty container or the scalar fits.
     */
    private static boolean value(StringBuilder sb, Object v, int limit) {
        int start = sb.length();
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(sb, s);
            case Boolean b -> sb.append(b.booleanValue());
            case Double d -> sb.append(Double.isFinite(d) ? d.toString() : "null");
            case Float f -> sb.append(Float.isFinite(f) ? f.toString() : "null");
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                if (start + 2 > limit) {
                    return false;
                }
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    int mark = sb.length();
                    if (!first) {
                        sb.append(',');
                    }
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(':');
                    if (sb.length() + 1 > limit || !value(sb, e.getValue(), limit - 1)) {
                        sb.setLength(mark);
                        break;
                    }
                    first = false;
                }
                sb.append('}');
                return true;
            }
            case List<?> l -> {
                if (start + 2 > limit) {
                    return false;
                }
                sb.append('[');
                boolean first = true;
                for (Object o : l) {
                    int mark = sb.length();
                    if (!first) {
                        sb.append(',');
                    }
                    if (!value(sb, o, limit - 1)) {
                        sb.setLength(mark);
                        break;
                    }
                    first = false;
                }
                sb.append(']');
                return true;
            }
            default -> string(sb, v.toString());
        }
        if (sb.length() > limit) {
            sb.setLength(start);
            return false;
        }
        return true;
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f) { // ASCII only: one byte per char, so the bound holds in bytes
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
