package io.jnic.sys;

/** The credentials of a socket peer (SO_PEERCRED or SCM_CREDENTIALS). */
public record Ucred(int pid, int uid, int gid) {
}
