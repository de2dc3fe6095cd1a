package io.jnic.multiproc;

import java.util.concurrent.Callable;

/**
 * An app run by {@link Eal#run}: a picocli command that mixes in {@link EalOptions} and, optionally, has
 * its own options object for what follows {@code --}.
 */
public interface EalApplication extends Callable<Integer> {
    /** The mixed-in runtime options. */
    EalOptions eal();

    /** A picocli-annotated object for the options after {@code --}, or null when the app has none. */
    default Object appOptions() {
        return null;
    }
}
