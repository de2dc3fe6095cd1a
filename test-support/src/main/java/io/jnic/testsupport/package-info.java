/**
 * What the tests of every jnic module share, kept at the bottom of the build so that any module's tests can use
 * it: {@link io.jnic.testsupport.ChildJvm}, the one launcher of child JVMs (multi-process, crash and command-line
 * tests), and {@link io.jnic.testsupport.Toeplitz}, the RSS hash computed from its definition as an oracle.
 *
 * <h2>Layout (no cycles, test scope included)</h2>
 * Maven refuses dependency cycles even through test scope, and {@code memory} and {@code sys}, at the bottom,
 * have child-JVM tests of their own. So test support is split in two modules:
 * <ul>
 *   <li>{@code test-support} (this one, artifact {@code jnic-test-support}): depends on no jnic module. Every
 *       module takes it with {@code <scope>test</scope>}.</li>
 *   <li>{@code test-ethdev} (artifact {@code jnic-test-ethdev}, package {@code io.jnic.testsupport.ethdev}):
 *       depends on ethdev; holds the {@code EthDevice} conformance suite that each driver's tests extend and the
 *       register-file 82599 the ixgbe tests and the benchmarks drive. Driver modules take it with test scope;
 *       bench, a benchmarks module, with compile scope (without JUnit), so bench depends on no test-jar.</li>
 * </ul>
 * Neither is shipped in an app jar. The resource probes ({@code io.jnic.sys.testing.TestResources}) stay in the sys
 * test-jar, beside the calls they make.
 */
package io.jnic.testsupport;
