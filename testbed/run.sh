#!/usr/bin/env bash
# The QEMU test bed: boots Debian's kernel under QEMU (TCG) with an emulated VT-d IOMMU, a virtio-net NIC
# and two e1000e NICs, and runs io.jnic.pci.testbed.GuestMain from this build inside it (the host's root
# and JDK over 9p): devbind, VFIO and UIO against real kernel drivers. Prints "N passed, N failed" last;
# exits non-zero when a check failed or the guest did not finish.
#
# Env: JNIC_TESTBED_DIR (work dir, default /tmp/jnic-testbed), JNIC_TESTBED_TIMEOUT (seconds, default 600),
#      JNIC_TESTBED_NOBUILD=1 (use the jars and classes already built), JNIC_TESTBED_MEM (default 1536M).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=$root/testbed
D=${JNIC_TESTBED_DIR:-/tmp/jnic-testbed}
TIMEOUT=${JNIC_TESTBED_TIMEOUT:-600}
MEM=${JNIC_TESTBED_MEM:-1536M}
HUGEPAGES=64

say() { echo "testbed: $*"; }
fail() { echo "testbed: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# --- packages ---------------------------------------------------------------------------------------
kernel() { ls /boot/vmlinuz-* 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1; }
missing() {
  command -v qemu-system-x86_64 >/dev/null || return 0
  # the initramfs has no libc: busybox must be the static build
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || return 0
  command -v cpio >/dev/null && command -v depmod >/dev/null || return 0
  [ -n "$(kernel)" ] && [ -d "/lib/modules/$(kernel)" ] || return 0
  return 1
}
if missing; then
  [ "$(id -u)" = 0 ] || fail "needs qemu-system-x86, linux-image-amd64, busybox-static, cpio and kmod; run as root to install them"
  say "installing qemu-system-x86 linux-image-amd64 busybox-static cpio kmod"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static cpio kmod >/dev/null
  missing && fail "packages installed but something is still missing (qemu, busybox, cpio, depmod or /boot/vmlinuz-*)"
fi
# Optional: DPDK's dpdk-devbind.py (and lspci, which it uses) for the interop check; skipped without them.
if [ "$(id -u)" = 0 ] && { [ ! -e /usr/bin/dpdk-devbind.py ] || ! command -v lspci >/dev/null; }; then
  say "installing dpdk pciutils (for the dpdk-devbind interop check)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpdk pciutils >/dev/null \
    || say "could not install dpdk/pciutils: the interop check will be skipped"
fi
K=$(kernel)
[ -r "/boot/vmlinuz-$K" ] || fail "cannot read /boot/vmlinuz-$K (run as root)"

# --- the project: jars and guest classes ---------------------------------------------------------------
. "$root/bin/find-jdk.sh"
jnic_find_jdk >/dev/null || fail "no JDK 25 found"
if [ "${JNIC_TESTBED_NOBUILD:-0}" != 1 ]; then
  say "building (./jnic build -pl apps -am)"
  (cd "$root" && ./jnic build -pl apps -am -q) || fail "build failed"
fi
cp=$root/pci/target/test-classes:$root/pci/target/classes:$root/memory/target/classes:$root/sys/target/classes
[ -d "$root/memory/target/classes" ] && cp=$cp:$root/memory/target/classes
for f in "$root/pci/target/test-classes/io/jnic/pci/testbed/GuestMain.class" "$root/apps/target/devbind.jar"; do
  [ -f "$f" ] || fail "missing $f: build with ./jnic build -pl apps -am"
done

# --- guest image and script ------------------------------------------------------------------------------
mkdir -p "$D/out"
rm -f "$D/out/"*
bash "$here/build-initramfs.sh" "$D" "$K"
cat > "$D/guest.sh" <<GUEST
#!/bin/sh
# written by testbed/run.sh; runs chrooted into the host's root inside the guest
cd "$root" || exit 2
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m \\
  -cp "$cp" -Djnic.devbind.jar="$root/apps/target/devbind.jar" io.jnic.pci.testbed.GuestMain 2>&1 | tee "$D/out/guest.log"
GUEST
# the pipeline's status is tee's: recover java's from the summary line instead
chmod +x "$D/guest.sh"

# --- boot ----------------------------------------------------------------------------------------------------
# q35 + intel-iommu (before the NICs) + intel_iommu=on: each NIC gets its own IOMMU group for vfio-pci.
# iommu=pt keeps kernel-owned devices (and uio_pci_generic's) on physical addresses.
# virtio-net: modern only, behind the IOMMU. The NICs share one QEMU hub and nothing else.
# no_timer_check: under TCG on a busy host the kernel's check of the timer through the (interrupt-
# remapped) IO-APIC can time out and panic at boot; the check proves nothing about our code.
boot() {
  timeout "$TIMEOUT" qemu-system-x86_64 \
    -accel tcg -machine q35 -cpu max -smp 2 -m "$MEM" \
    -nographic -nodefaults -serial stdio -no-reboot \
    -kernel "/boot/vmlinuz-$K" -initrd "$D/initramfs.cpio.gz" \
    -append "console=ttyS0 loglevel=4 panic=-1 no_timer_check intel_iommu=on iommu=pt hugepages=$HUGEPAGES jnic.dir=$D jnic.root=$root" \
    -device intel-iommu \
    -netdev hubport,id=p0,hubid=0 -netdev hubport,id=p1,hubid=0 -netdev hubport,id=p2,hubid=0 \
    -device virtio-net-pci,netdev=p0,addr=03.0,disable-legacy=on,iommu_platform=on,mac=52:54:00:00:00:03 \
    -device e1000e,netdev=p1,addr=04.0,mac=52:54:00:00:00:04 \
    -device e1000e,netdev=p2,addr=05.0,mac=52:54:00:00:00:05 \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=fs0 \
    -virtfs local,path="$D/out",mount_tag=out,security_model=none,id=fs1 \
    < /dev/null > "$D/console.log" 2>&1
}
for attempt in 1 2; do
  say "booting kernel $K under QEMU (TCG); console log: $D/console.log"
  t0=$(date +%s)
  set +e
  boot
  qrc=$?
  set -e
  say "guest ran $(( $(date +%s) - t0 )) s (qemu exit $qrc)"
  # Retry only a guest that never reached its /init (an emulator or boot hiccup, not a test result).
  grep -q '@@MARK [0-9.]* INIT' <(tr -d '\r' < "$D/console.log") && break
  say "the guest did not reach /init; last lines:"; tail -5 "$D/console.log" | sed 's/^/  | /'
done

# --- results ------------------------------------------------------------------------------------------------
log=$(tr -d '\r' < "$D/console.log")
grep -E '^@@(T|ERR|RC|INFO|MARK)' <<< "$log" | grep -v '^@@T SUMMARY' || true
passed=$(grep -c '^@@T PASS' <<< "$log" || true)
failed=$(grep -c '^@@T FAIL' <<< "$log" || true)
skipped=$(grep -c '^@@T SKIP' <<< "$log" || true)
if ! grep -q '^@@T SUMMARY' <<< "$log"; then
  [ "$qrc" = 124 ] && say "the guest did not finish within ${TIMEOUT}s" || say "the guest run did not complete"
  tail -30 <<< "$log" | sed 's/^/  | /'
  failed=$((failed + 1))
fi
[ "$failed" -gt 0 ] && say "full console log: $D/console.log"
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" = 0 ]
