# toolchain-aarch64.cmake - cross-build edgevision for 64-bit ARM Linux (Raspberry Pi 3/4/5 with
# a 64-bit OS, Cortex-A53/A72/A76) from Debian x86_64 with gcc-aarch64-linux-gnu, against the
# target's multiarch -dev packages (scripts/install-cross-deps.sh).
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
#         -DEV_WITH_HDF5=OFF -DEV_WITH_MATIO=OFF
#
# Running the binaries on the build host: set CMAKE_CROSSCOMPILING_EMULATOR (scripts/test-arm.sh
# passes qemu-aarch64-static). Extend: another target is a copy with its triplet changed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EV_CROSS_TRIPLET aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/cross-multiarch.cmake)
