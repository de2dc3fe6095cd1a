package io.jnic.devsim;

/**
 * Where a model's interrupts go: with vfio-user, an eventfd per MSI-X vector (and one for INTx/MSI) that
 * the driver handed over with SET_IRQS. Called from the device thread, so implementations must not block.
 */
public interface InterruptSink {
    /** MSI-X vector {@code vector} fired. */
    void msix(int vector);

    /** The single INTx / MSI interrupt fired (the device is not in MSI-X mode). */
    void legacy();

    /** Drops every interrupt: for a device nobody has asked interrupts from yet. */
    InterruptSink NONE = new InterruptSink() {
        @Override
        public void msix(int vector) {
        }

        @Override
        public void legacy() {
        }
    };
}
