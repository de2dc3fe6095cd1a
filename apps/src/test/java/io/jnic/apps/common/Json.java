package io.jnic.apps.common;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads numbers out of l2fwd-mp's --stats-json (a flat, known shape: regular expressions suffice). */
public final class Json {
    private Json() {
    }

    /** {@code "key": N} inside the object that holds {@code "anchorKey": anchorValue}. */
    public static long in(String json, String anchor, String key) {
        int at = json.indexOf(anchor);
        if (at < 0) {
            throw new AssertionError("no " + anchor + " in " + json);
        }
        int open = json.lastIndexOf('{', at);
        int close = json.indexOf('}', at);
        return get(json.substring(open, close + 1), key);
    }

    public static long get(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no \"" + key + "\" in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    /** A process's port entry: {@code "port": p, ...} after {@code "proc_id": proc, "pid"}. */
    public static long port(String json, int proc, int port, String key) {
        int at = json.indexOf("{\"proc_id\": " + proc + ", \"pid\"");
        if (at < 0) {
            throw new AssertionError("no proc " + proc + " in " + json);
        }
        int p = json.indexOf("{\"port\": " + port + ",", at);
        return get(json.substring(p, json.indexOf('}', p) + 1), key);
    }
}
