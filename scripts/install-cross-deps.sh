#!/usr/bin/env bash
# Installs what the ARM cross-builds need on a Debian 12 x86_64 host (idempotent; quick when
# everything is there): the cross compilers, qemu-user-static (to run the tests), protoc-c (runs on
# the build host; its generated C is portable), and the target's libraries from Debian's archive.
# Uses sudo when not run as root.
#
#   bash scripts/install-cross-deps.sh                 # both targets (Debian names arm64, armhf)
#   bash scripts/install-cross-deps.sh arm64           # one
#   EV_CROSS_MODE=sysroot bash scripts/install-cross-deps.sh   # private sysroots only
#
# Two ways to get the target's -dev packages:
#  - multiarch (default): dpkg --add-architecture, then apt-get install libpng-dev:arm64 ... beside
#    the host's. libhdf5-dev has no "Multi-Arch: same" (it conflicts with the native libhdf5-dev
#    the x86 build needs) and libmatio-dev depends on it, so these builds use -DEV_WITH_HDF5=OFF
#    -DEV_WITH_MATIO=OFF (Keras .h5 weights and Stanford Cars .mat files then fail at run time
#    with "built without ...", and their tests skip saying so).
#  - a private sysroot, /opt/edgevision-cross/sysroot-<arch> ($EV_CROSS_SYSROOTS): apt resolves and
#    downloads the target's packages with its own state directory (signed Debian indices, no
#    change to the host's dpkg database) and they are unpacked there, HDF5 and matio included.
#    Used when multiarch cannot install (a multiarch package at another version than the host's,
#    e.g. while a mirror's security index for that architecture is out of sync), or always with
#    EV_CROSS_MODE=sysroot. scripts/test-arm.sh prefers a complete sysroot when one exists.
#
# Each foreign architecture's index is fetched on its own (APT::Architectures=<native>,<target>),
# so a mirror that is mid-sync for one architecture does not block the other; fetches are retried.
set -euo pipefail
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(arm64 armhf)
NATIVE="$(dpkg --print-architecture)"
HOST_PKGS=(build-essential cmake pkg-config protobuf-c-compiler qemu-user-static)
DEV_PKGS=(libc6-dev libjpeg62-turbo-dev libpng-dev libcjson-dev libstb-dev libavformat-dev
          libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev libprotobuf-c-dev)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

MODE="${EV_CROSS_MODE:-multiarch}"
SYSROOTS="${EV_CROSS_SYSROOTS:-/opt/edgevision-cross}"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Private sysroot of the target's packages (see the header). The suites are tried with the
# security archive first, then without it when its index for this architecture cannot be fetched
# (the sysroot only builds and runs tests; it is never installed anywhere).
make_sysroot() {
  local t="$1" triplet
  case "$t" in arm64) triplet=aarch64-linux-gnu ;; armhf) triplet=arm-linux-gnueabihf ;; esac
  local R="$SYSROOTS/apt-$t" S="$SYSROOTS/sysroot-$t"
  $SUDO mkdir -p "$SYSROOTS"
  $SUDO rm -rf "$R" "$S"
  $SUDO mkdir -p "$R/var/lib/dpkg" "$R/var/cache/apt/archives/partial" \
    "$R/var/lib/apt/lists/partial" "$R/etc/apt/apt.conf.d" "$R/etc/apt/preferences.d" "$S"
  $SUDO touch "$R/var/lib/dpkg/status"
  local key=/usr/share/keyrings/debian-archive-keyring.gpg
  local A=(-o "Dir=$R" -o "Dir::State::status=$R/var/lib/dpkg/status"
           -o "Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d" -o "APT::Architecture=$t"
           -o "APT::Architectures=$t" -o "Debug::NoLocking=1")
  printf '%s\n' "deb [signed-by=$key] http://deb.debian.org/debian bookworm main" \
    "deb [signed-by=$key] http://deb.debian.org/debian bookworm-updates main" \
    "deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main" |
    $SUDO tee "$R/etc/apt/sources.list" >/dev/null
  if ! $SUDO apt-get "${A[@]}" update -qq; then
    echo "install-cross-deps: the security index for $t cannot be fetched; the sysroot uses" \
         "bookworm and bookworm-updates only" >&2
    $SUDO sed -i '/debian-security/d' "$R/etc/apt/sources.list"
    $SUDO apt-get "${A[@]}" update -qq
  fi
  $SUDO apt-get "${A[@]}" install -y -qq --download-only --no-install-recommends \
    "${DEV_PKGS[@]}" libhdf5-dev libmatio-dev
  for d in "$R"/var/cache/apt/archives/*.deb; do $SUDO dpkg-deb -x "$d" "$S"; done
  # What maintainer scripts would have done: absolute links into the sysroot, and the
  # update-alternatives links (BLAS/LAPACK under libhdf5's dependencies, hdf5.pc).
  find "$S" -type l -lname '/*' | while read -r l; do $SUDO ln -sfn "$S$(readlink "$l")" "$l"; done
  local L="$S/usr/lib/$triplet"
  for f in "$L"/blas/*.so* "$L"/lapack/*.so*; do
    [ -e "$f" ] && [ ! -e "$L/$(basename "$f")" ] &&
      $SUDO ln -s "$(basename "$(dirname "$f")")/$(basename "$f")" "$L/$(basename "$f")"
  done
  [ -e "$L/pkgconfig/hdf5.pc" ] || $SUDO ln -s hdf5-serial.pc "$L/pkgconfig/hdf5.pc"
  $SUDO rm -rf "$R/var/cache/apt/archives"/*.deb
  $SUDO touch "$S/.complete"
  echo "install-cross-deps: sysroot for $t ready in $S"
}

for t in "${TARGETS[@]}"; do
  case "$t" in
    arm64) gcc_pkg=gcc-aarch64-linux-gnu ;;
    armhf) gcc_pkg=gcc-arm-linux-gnueabihf ;;
    *) echo "install-cross-deps: unknown target '$t' (arm64 or armhf)" >&2; exit 2 ;;
  esac
  missing=()
  for p in "${HOST_PKGS[@]}" "$gcc_pkg"; do installed "$p" || missing+=("$p"); done
  for p in "${DEV_PKGS[@]}"; do installed "$p:$t" || missing+=("$p:$t"); done
  host_missing=()
  for p in "${missing[@]}"; do [[ "$p" == *:* ]] || host_missing+=("$p"); done
  [ "$MODE" = sysroot ] && missing=("${host_missing[@]}")
  if [ -f "$SYSROOTS/sysroot-$t/.complete" ]; then missing=("${host_missing[@]}"); fi
  if [ ${#missing[@]} -gt 0 ]; then
    if [ ${#missing[@]} -ne ${#host_missing[@]} ] &&
       ! dpkg --print-foreign-architectures | grep -qx "$t"; then
      $SUDO dpkg --add-architecture "$t"
    fi
    echo "installing for $t: ${missing[*]}"
    ok=0
    for attempt in 1 2 3; do
      if $SUDO apt-get update -qq -o APT::Architectures="$NATIVE,$t"; then ok=1; break; fi
      echo "apt-get update for $t failed (attempt $attempt); retrying in 20 s" >&2
      sleep 20
    done
    if [ $ok -eq 1 ] && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
         --no-install-recommends -o APT::Architectures="$NATIVE,$t" "${missing[@]}"; then
      continue
    fi
    if [ ${#host_missing[@]} -gt 0 ]; then  # the host tools at least (native index only)
      $SUDO apt-get update -qq -o APT::Architectures="$NATIVE" || true
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${host_missing[@]}"
    fi
    [ -f "$SYSROOTS/sysroot-$t/.complete" ] && continue
    echo "install-cross-deps: multiarch packages for $t did not install; unpacking a private" \
         "sysroot in $SYSROOTS/sysroot-$t instead" >&2
  elif [ "$MODE" != sysroot ] || [ -f "$SYSROOTS/sysroot-$t/.complete" ]; then
    continue
  fi
  make_sysroot "$t"
done
