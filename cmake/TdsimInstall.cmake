# `cmake --install`: the tdsim CMake package (find_package(tdsim CONFIG)), a pkg-config
# file, the tdsim command, the headers, the guest runtime with its linker script, and
# the built-in stub. Included last by the top-level CMakeLists.txt, when every target
# exists. Layout under the prefix:
#   bin/tdsim
#   include/tdsim/abi/*.h                    ABI headers ("tdsim/abi/ucall.h"; C11 and C++)
#   include/tdsim/<dir>/*.h                  host and guest-runtime headers, named as in
#                                            this tree ("core/event.h", "ucall/guest/guest.h")
#   include/tdsim/stub/td_boot_offsets.h     generated offsets for boot stubs
#   lib/libtdsim_*.a                         host libraries, guest runtime
#   lib/cmake/tdsim/                         package config, targets, TdsimGuest.cmake,
#                                            TdsimStub.cmake and the files they use
#   lib/pkgconfig/tdsim.pc
#   share/tdsim/stub/                        the built-in stub: blob, object, symbols, source
include(CMakePackageConfigHelpers)

set(TDSIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tdsim)

# The host library: one target for users, linking every host component the public API
# needs (layout, backends, measurement, diagnostics, ucall decoding, core).
add_library(tdsim_host INTERFACE)
target_link_libraries(tdsim_host INTERFACE tdsim_layout tdsim_measure tdsim_registry tdsim_sim tdsim_kvm tdsim_diag
  tdsim_ucall tdsim_core)
set_target_properties(tdsim_host PROPERTIES EXPORT_NAME host)
# A sanitizer build (TDSIM_SANITIZE) installs libraries that call the ASan/UBSan
# runtimes, so whoever links them must link those runtimes too: the package and the
# pkg-config file pass the same flags on (compile and link), and a user's program is
# then checked alike. Empty in an ordinary build.
set(TDSIM_PC_SANITIZE)
if(TDSIM_HOST_SANITIZE)
  target_compile_options(tdsim_host INTERFACE ${TDSIM_HOST_SANITIZE})
  target_link_options(tdsim_host INTERFACE ${TDSIM_HOST_SANITIZE})
  list(JOIN TDSIM_HOST_SANITIZE " " TDSIM_PC_SANITIZE)
  string(PREPEND TDSIM_PC_SANITIZE " ")
endif()

# Everything the host library links, found by walking the link graph, so a library added
# to it (or moved between folders) is exported and its headers installed without an edit
# here. Post-order: a target comes after what it links, which pkg-config's Libs wants
# reversed.
set(tdsim_export_order)
function(tdsim_collect_links target)
  get_property(seen GLOBAL PROPERTY TDSIM_EXPORT_SEEN)
  if(target IN_LIST seen)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY TDSIM_EXPORT_SEEN ${target})
  get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct ${target} LINK_LIBRARIES)
    list(APPEND links ${direct})
  endif()
  foreach(dep IN LISTS links)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
    if(TARGET ${dep})
      get_target_property(imported ${dep} IMPORTED)
      if(NOT imported)
        tdsim_collect_links(${dep})
      endif()
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY TDSIM_EXPORT_ORDER ${target})
endfunction()
tdsim_collect_links(tdsim_host)
get_property(tdsim_export_order GLOBAL PROPERTY TDSIM_EXPORT_ORDER)

set(host_libs)
set(header_dirs)
foreach(t IN LISTS tdsim_export_order)
  get_target_property(type ${t} TYPE)
  if(NOT t STREQUAL "tdsim_host")
    string(REGEX REPLACE "^tdsim_" "" export_name ${t})
    set_target_properties(${t} PROPERTIES EXPORT_NAME ${export_name})
  endif()
  if(type STREQUAL "STATIC_LIBRARY")
    list(PREPEND host_libs ${t})
    get_target_property(dir ${t} SOURCE_DIR)
    list(APPEND header_dirs ${dir})
  endif()
endforeach()

set_target_properties(tdsim_boot_offsets_header PROPERTIES EXPORT_NAME boot_offsets_header)
install(TARGETS ${tdsim_export_order} tdsim_guest_runtime tdsim_boot_offsets_header
  EXPORT tdsimTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tdsimTargets NAMESPACE tdsim:: DESTINATION ${TDSIM_CMAKE_DIR})
install(TARGETS tdsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers: each exported library's folder, and the guest runtime's, keep their path
# relative to the repository root under include/tdsim.
get_target_property(runtime_dir tdsim_guest_runtime SOURCE_DIR)
list(APPEND header_dirs ${runtime_dir})
list(REMOVE_DUPLICATES header_dirs)
foreach(dir IN LISTS header_dirs)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  if(rel STREQUAL "" OR rel MATCHES "^\\.\\.")
    message(FATAL_ERROR "TdsimInstall: library folder ${dir} is not below the source tree")
  endif()
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tdsim/${rel}
    FILES_MATCHING PATTERN "*.h")
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tdsim/abi DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tdsim
  FILES_MATCHING PATTERN "*.h")
get_property(offsets_dir GLOBAL PROPERTY TDSIM_BOOT_OFFSETS_DIR)
install(FILES ${offsets_dir}/td_boot_offsets.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tdsim/stub)

# The built-in stub: the blob the CLI embeds, its ELF object (for objdump and gdb), the
# label offsets `tdsim run --stub` reads next to a blob, and the source to start from.
get_target_property(stub_bin stub_builtin TDSIM_STUB_BIN)
get_target_property(stub_obj stub_builtin TDSIM_STUB_OBJ)
get_target_property(stub_syms stub_builtin TDSIM_STUB_SYMBOLS)
install(FILES ${stub_bin} ${stub_obj} ${stub_syms} ${PROJECT_SOURCE_DIR}/bootstub/stub/td_boot.S
  DESTINATION ${CMAKE_INSTALL_DATADIR}/tdsim/stub)

# The package: config + version files, and the guest/stub functions with their files.
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tdsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tdsimConfig.cmake
  INSTALL_DESTINATION ${TDSIM_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tdsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tdsimConfig.cmake ${PROJECT_BINARY_DIR}/tdsimConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/TdsimGuest.cmake ${CMAKE_CURRENT_LIST_DIR}/TdsimStub.cmake
  ${CMAKE_CURRENT_LIST_DIR}/guest.ld ${CMAKE_CURRENT_LIST_DIR}/check_guest_elf.cmake
  ${CMAKE_CURRENT_LIST_DIR}/make_stub_blob.cmake ${CMAKE_CURRENT_LIST_DIR}/require_no_relocations.cmake
  DESTINATION ${TDSIM_CMAKE_DIR})

# pkg-config: the host libraries in link order (dependents first) and their
# dependencies' own .pc names; the guest runtime and linker script as variables.
# Each archive is named by its file (-l:libX.a): the plain -lX would pick a shared
# library of the same name first, and libtdsim_kvm.so (the user-space KVM's preload
# library, which replaces open and ioctl) shares its name with the KVM backend's archive.
set(TDSIM_PC_LIBS)
foreach(t IN LISTS host_libs)
  get_target_property(name ${t} OUTPUT_NAME)
  if(NOT name)
    set(name ${t})
  endif()
  string(APPEND TDSIM_PC_LIBS " -l:${CMAKE_STATIC_LIBRARY_PREFIX}${name}${CMAKE_STATIC_LIBRARY_SUFFIX}")
endforeach()
file(RELATIVE_PATH TDSIM_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" TDSIM_PC_TO_PREFIX "${TDSIM_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tdsim.pc.in ${PROJECT_BINARY_DIR}/tdsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tdsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
