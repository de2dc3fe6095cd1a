package io.jnic.multiproc;

/**
 * A secondary left the group: its process ended (exit or kill; seen through its pidfd) or it detached.
 *
 * @param secondary what it registered
 * @param released  the lcores that were still held by its pid and are free again (pinned and floating)
 * @param detached  true when it closed its runtime and said so, false when its process ended
 */
public record SecondaryExit(SecondaryInfo secondary, LcoreSet released, boolean detached) {
}
