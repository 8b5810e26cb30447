# cross-multiarch.cmake - shared part of the Debian cross toolchain files (toolchain-*.cmake set
# CMAKE_SYSTEM_PROCESSOR and EV_CROSS_TRIPLET, then include this).
#
# Compiler: ${EV_CROSS_TRIPLET}-gcc. Target libraries come from Debian's packages for the target
# architecture, in one of two places (scripts/install-cross-deps.sh provides either):
#  - multiarch (default): installed beside the host's, /usr/lib/<triplet> and /usr/include/<triplet>
#    (the cross gcc searches those); pkg-config reads only the target's .pc files.
#  - a private sysroot (EV_CROSS_SYSROOT, cache variable or environment): the target's packages
#    unpacked into a directory (no dpkg changes on the host, every -dev package available,
#    libhdf5-dev included); gcc, find_* and pkg-config are all pointed there.
# Programs (protoc-c) are always the build host's.
set(CMAKE_C_COMPILER ${EV_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${EV_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
if(NOT EV_CROSS_SYSROOT AND DEFINED ENV{EV_CROSS_SYSROOT})
  set(EV_CROSS_SYSROOT "$ENV{EV_CROSS_SYSROOT}")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EV_CROSS_SYSROOT)
if(EV_CROSS_SYSROOT)
  set(CMAKE_SYSROOT "${EV_CROSS_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${EV_CROSS_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EV_CROSS_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR}
      "${EV_CROSS_SYSROOT}/usr/lib/${EV_CROSS_TRIPLET}/pkgconfig:${EV_CROSS_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${EV_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()
set(ENV{PKG_CONFIG_PATH} "")
