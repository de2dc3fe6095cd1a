#!/usr/bin/env bash
# Prints the path of a qemu-system-x86_64 that has a vfio-user client (QEMU >= 10.1), building it once if
# needed. Debian bookworm's QEMU (7.2) has none, so this builds Debian's trixie-backports source package
# (x86_64 softmmu only: TCG, q35, VT-d, vfio-user-pci, virtio-9p; no GUI, docs or tools) and installs it
# under a fixed cache path that later runs (and CI machines of the same kind) reuse.
#
#   qemu-vfio-user.sh            -> prints the binary's path (stdout, last line); progress on stderr
#
# Env: JNIC_QEMU_PREFIX (default /var/cache/jnic/qemu-10.2), JNIC_QEMU_SOURCE (apt-get source argument,
#      default qemu/trixie-backports), JNIC_QEMU_JOBS (default 2).
# The firmware (SeaBIOS, the option ROMs) comes from Debian's own qemu-system-x86/seabios packages: the
# Debian source package ships no binary blobs.
set -euo pipefail
PREFIX=${JNIC_QEMU_PREFIX:-/var/cache/jnic/qemu-10.2}
SOURCE=${JNIC_QEMU_SOURCE:-qemu/trixie-backports}
JOBS=${JNIC_QEMU_JOBS:-2}
BIN=$PREFIX/bin/qemu-system-x86_64
# Fallback when the archive's index names a source version its pool does not serve: this version's tarball.
POOL=http://deb.debian.org/debian/pool/main/q/qemu
ORIG=qemu_10.2.2+ds.orig.tar.xz
ORIG_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
say() { echo "qemu-vfio-user: $*" >&2; }
die() { say "$*"; exit 1; }

# A usable binary: runs, and lists the vfio-user-pci device.
usable() { [ -x "$BIN" ] && "$BIN" -device help 2>/dev/null | grep -q '"vfio-user-pci"'; }
if usable; then
  say "using $BIN ($("$BIN" --version | head -1))"
  echo "$BIN"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "no QEMU with a vfio-user client at $BIN; run as root once to build it (~20 min on 2 cores)"

export DEBIAN_FRONTEND=noninteractive
# --- sources: trixie-backports deb-src in a file of its own --------------------------------------------------
list=/etc/apt/sources.list.d/jnic-trixie-backports-src.sources
if [ ! -f "$list" ]; then
  say "adding $list (deb-src trixie-backports)"
  cat > "$list" <<'EOF'
# Source packages only: the test bed builds QEMU (vfio-user client) from trixie-backports' qemu.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
apt-get update -qq -o DPkg::Lock::Timeout=600 >&2 || die "apt-get update failed (network?)"
# Minimal build dependencies (not apt-get build-dep: Debian's list pulls GUI, Xen, Ceph, ... for all targets).
# seabios/qemu-system-data: the firmware the build does not provide; python3-venv: configure's venv;
# device-tree-compiler: the build compiles its .dts files (Debian's tarball has no .dtb).
deps="build-essential pkg-config ninja-build python3 python3-venv flex bison libglib2.0-dev libpixman-1-dev
      device-tree-compiler libfdt-dev zlib1g-dev libattr1-dev libcap-ng-dev dpkg-dev xz-utils curl seabios qemu-system-data ipxe-qemu"
# shellcheck disable=SC2086
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $deps >&2 || die "could not install the build dependencies: $deps"

# --- source ----------------------------------------------------------------------------------------------------
W=${PREFIX}-build
t0=$(date +%s)
mkdir -p "$W"
find "$W" -mindepth 1 -maxdepth 1 ! -name "$(basename "$ORIG")" -exec rm -rf {} +
say "fetching the source package ($SOURCE) into $W"
from="apt-get source $SOURCE"
if ! (cd "$W" && apt-get source -qq "$SOURCE" >&2); then
  from="$POOL/$ORIG (apt-get source $SOURCE failed)"
  # The archive's index can name a version its pool no longer (or not yet) serves: then the package's
  # upstream tarball of the pinned version, checked against its pinned SHA-256, unpacked as the package would.
  say "apt-get source $SOURCE failed; using the source package's tarball $ORIG from the Debian pool"
  if ! echo "$ORIG_SHA256  $W/$ORIG" | sha256sum -c --quiet 2>/dev/null; then
    curl -fsS -o "$W/$ORIG" "$POOL/$ORIG" || die "could not download $POOL/$ORIG"
  fi
  echo "$ORIG_SHA256  $W/$ORIG" | sha256sum -c --quiet || die "$ORIG does not have the pinned SHA-256 $ORIG_SHA256"
  tar -C "$W" -xJf "$W/$ORIG" || die "could not unpack $ORIG"
fi
src=$(find "$W" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -1)
[ -n "$src" ] && [ -x "$src/configure" ] || die "no unpacked qemu source with a configure script in $W"
version=$(cat "$src/VERSION" 2>/dev/null || echo unknown)
say "QEMU $version from $(basename "$src")"

# --- configure and build ----------------------------------------------------------------------------------------
# Only the x86_64 system emulator; everything the test bed does not use is off so that the build stays short.
conf=(--prefix="$PREFIX" --target-list=x86_64-softmmu
      --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
      --disable-docs --disable-tools --disable-user --disable-guest-agent --disable-install-blobs
      --disable-werror --disable-debug-info --disable-rust
      --disable-gtk --disable-sdl --disable-vnc --disable-spice --disable-opengl --disable-curses
      --disable-xen --disable-gnutls --disable-nettle --disable-gcrypt --disable-capstone
      --enable-virtfs --enable-vhost-user)
# configure wants Meson >= 1.5 (bookworm has 1.0) in the Python it is given; the upstream tarball carries a
# wheel in python/wheels, Debian's +ds tarball does not. So: a venv of Debian's python3 with Meson from pip
# (whatever index pip is configured with), and that venv's python for configure (its own venv inherits it).
venv=$W/pyvenv-meson
/usr/bin/python3 -m venv "$venv" >&2 || die "python3 -m venv failed (python3-venv)"
"$venv/bin/python3" -m pip install -q 'meson>=1.5.0' >&2 || die "pip could not install meson>=1.5.0"
# pycotap is in the same requirement group only for QEMU's own test harness (meson test), which this build
# never runs; where pip cannot get it, the group drops it.
if ! "$venv/bin/python3" -m pip install -q --retries 1 --timeout 15 'pycotap>=1.1.0' >/dev/null 2>&1; then
  say "pycotap unavailable: dropped from pythondeps.toml's [meson] group (only QEMU's test harness uses it)"
  sed -i '/^pycotap = /d' "$src/pythondeps.toml"
fi
conf+=(--python="$venv/bin/python3")
# Debian's tarball has no firmware blobs, but the build unpacks the EDK2 images for x86 targets whenever
# bzip2 is there: not here (the guest boots SeaBIOS from Debian's package).
sed -i 's/^\( *unpack_edk2_blobs = \)bzip2.found()/\1false/' "$src/meson.build"
mkdir -p "$W/build"
cd "$W/build"
nice -n 10 "$src/configure" "${conf[@]}" >"$W/configure.log" 2>&1 \
  || { tail -30 "$W/configure.log" >&2; die "configure failed: $W/configure.log"; }
say "building with make -j$JOBS under nice (log: $W/build.log)"
if ! nice -n 10 make -j"$JOBS" >"$W/build.log" 2>&1; then
  tail -30 "$W/build.log" >&2
  die "build failed: $W/build.log"
fi
make install >"$W/install.log" 2>&1 || { tail -20 "$W/install.log" >&2; die "make install failed"; }
t1=$(date +%s)
cat > "$PREFIX/BUILD-INFO" <<EOF
source: $(basename "$src") from $from
QEMU version: $version
built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, make -j$JOBS, fetch+configure+build+install $((t1 - t0)) s
configure: ${conf[*]}
EOF
usable || die "built $BIN but it does not list vfio-user-pci (see $W/configure.log)"
say "built QEMU $version in $((t1 - t0)) s; $PREFIX/BUILD-INFO"
# the build tree is large and not needed again
cd /; rm -rf "$W/build"
echo "$BIN"
