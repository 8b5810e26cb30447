# toolchain-armv7.cmake - cross-build edgevision for 32-bit ARM hard-float Linux (armv7-a:
# Raspberry Pi OS 32-bit / Debian armhf on Pi 2/3/4) from Debian x86_64 with
# gcc-arm-linux-gnueabihf, against the armhf multiarch -dev packages
# (scripts/install-cross-deps.sh). Debian armhf's baseline is armv7-a + VFPv3-D16 (Thumb-2);
# NEON is enabled only in the *_neon.c kernels, chosen at run time when HWCAP_NEON is set.
#
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armv7.cmake \
#         -DEV_WITH_HDF5=OFF -DEV_WITH_MATIO=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EV_CROSS_TRIPLET arm-linux-gnueabihf)
include(${CMAKE_CURRENT_LIST_DIR}/cross-multiarch.cmake)
