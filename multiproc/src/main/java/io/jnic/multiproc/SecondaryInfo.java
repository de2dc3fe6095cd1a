package io.jnic.multiproc;

/**
 * A secondary registered with the primary.
 *
 * @param pid    its process id (checked against the kernel's credentials of its registration)
 * @param procId its process index in the group (the primary is 0), unique among live secondaries
 * @param lcores the lcores it claimed with -l
 */
public record SecondaryInfo(int pid, int procId, LcoreSet lcores) {
}
