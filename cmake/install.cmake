# install.cmake - what `cmake --install build --prefix P` puts under P (included at the end of
# CMakeLists.txt):
#   lib/libedgevision.so.0.1.0, .so.0 (the soname), .so   the shared library (public API only)
#   lib/libedgevision.a                                      the static library (every component)
#   include/edgevision.h                                     the one public header
#   bin/edgevision                                           the CLI
#   lib/pkgconfig/edgevision.pc                              pkg-config (prefix: the install's)
#   lib/cmake/edgevision/                                    find_package(edgevision): imported
#                                                            targets edgevision::edgevision (shared)
#                                                            and, with COMPONENTS static,
#                                                            edgevision::edgevision_static
# (lib is lib/<multiarch> for prefix /usr on Debian: GNUInstallDirs.) The optional features of
# the build (hdf5, matio, cuda) are reported by both: the pc variable `features`, the CMake
# variable edgevision_FEATURES, and find_package(edgevision COMPONENTS hdf5) fails without them.
# tests/install/test_install.sh installs a tree and builds a consumer against it both ways.
#
# Extend: a new installed file is one install() line here and one line in the listing above; a
# new optional feature is one line in the EV_INSTALL_FEATURES block (and its linker flags in
# EV_PC_LIBS_PRIVATE below and the static branch of edgevision-config.cmake.in).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EV_INSTALL_FEATURES)
if(EV_WITH_HDF5)
  list(APPEND EV_INSTALL_FEATURES hdf5)
endif()
if(EV_WITH_MATIO)
  list(APPEND EV_INSTALL_FEATURES matio)
endif()
if(EV_CUDA_OK)
  list(APPEND EV_INSTALL_FEATURES cuda)
endif()
set(EV_INSTALL_COMPONENTS core ${EV_COMPONENTS}) # all inside libedgevision.{so,a}

set(EV_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgevision)

install(TARGETS edgevision_shared EXPORT edgevision-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS edgevision_static EXPORT edgevision-static-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS edgevision RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/edgevision.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT edgevision-targets NAMESPACE edgevision:: DESTINATION ${EV_CMAKE_DIR})
install(EXPORT edgevision-static-targets NAMESPACE edgevision:: DESTINATION ${EV_CMAKE_DIR})

configure_package_config_file(cmake/edgevision-config.cmake.in
  ${CMAKE_BINARY_DIR}/install/edgevision-config.cmake INSTALL_DESTINATION ${EV_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/install/edgevision-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/install/edgevision-config.cmake
  ${CMAKE_BINARY_DIR}/install/edgevision-config-version.cmake DESTINATION ${EV_CMAKE_DIR})

# pkg-config: the prefix is the one of the install (`cmake --install --prefix P` gives P), so the
# file is finished at install time (install(CODE) below), from a copy with everything else filled.
set(EV_PC_PREFIX "@EV_PC_PREFIX@") # kept for the install-time pass
# What a static link needs, as plain linker flags (no Requires.private: a consumer of the shared
# library then needs none of the dependencies' development files).
set(EV_PC_LIBS_PRIVATE ${JPEG_LIBRARIES} ${PNG_LIBRARIES} ${ZLIB_LIBRARIES} ${STB_LIB}
  ${CJSON_LDFLAGS} ${PROTOBUFC_LDFLAGS} ${FFMPEG_LDFLAGS})
if(EV_WITH_HDF5)
  list(APPEND EV_PC_LIBS_PRIVATE ${HDF5_LDFLAGS})
endif()
if(EV_WITH_MATIO)
  list(APPEND EV_PC_LIBS_PRIVATE ${MATIO_LDFLAGS})
endif()
if(EV_CUDA_OK)
  list(APPEND EV_PC_LIBS_PRIVATE -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -ldl -lrt -lstdc++)
endif()
list(APPEND EV_PC_LIBS_PRIVATE -lm -lpthread)
list(REMOVE_DUPLICATES EV_PC_LIBS_PRIVATE)
string(REPLACE ";" " " EV_PC_LIBS_PRIVATE "${EV_PC_LIBS_PRIVATE}")
string(REPLACE ";" " " EV_PC_FEATURES "${EV_INSTALL_FEATURES}")
string(REPLACE ";" " " EV_PC_COMPONENTS "${EV_INSTALL_COMPONENTS}")
configure_file(cmake/edgevision.pc.in ${CMAKE_BINARY_DIR}/install/edgevision.pc.stage @ONLY)
install(CODE "set(EV_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_BINARY_DIR}/install/edgevision.pc.stage\"
                 \"${CMAKE_BINARY_DIR}/install/edgevision.pc\" @ONLY)")
install(FILES ${CMAKE_BINARY_DIR}/install/edgevision.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
