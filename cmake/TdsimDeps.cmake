# Host libraries, all from Debian packages (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(UNICORN REQUIRED IMPORTED_TARGET unicorn)
if(UNICORN_VERSION VERSION_LESS 2.1)
  message(FATAL_ERROR "tdsim needs Unicorn >= 2.1 (found ${UNICORN_VERSION}): 2.0 ignores the guest page tables for data accesses and stops at a cached TDCALL (docs/engine-quirks.md). scripts/install-deps.sh installs 2.1 on bookworm from the trixie suite of the configured mirror.")
endif()
# Unicorn's static archive, where the distribution ships one, for the tdsim command
# (cli/CMakeLists.txt): the shared library exports every architecture's symbols, and
# resolving them at start-up was the largest part of a cold `tdsim run`.
find_library(TDSIM_UNICORN_STATIC NAMES libunicorn.a HINTS ${UNICORN_LIBRARY_DIRS} ${UNICORN_LIBDIR})
pkg_check_modules(CAPSTONE REQUIRED IMPORTED_TARGET capstone)
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
# The same for the other libraries every `tdsim run` loads (Capstone for block facts,
# libcrypto for the TD build's MRTD, Boost.Program_options for the command line): each
# shared library is a set of relocations the loader resolves at every start
# (docs/performance.md, "Cold start").
find_library(TDSIM_CAPSTONE_STATIC NAMES libcapstone.a HINTS ${CAPSTONE_LIBRARY_DIRS} ${CAPSTONE_LIBDIR})
get_filename_component(TDSIM_OPENSSL_LIBDIR "${OPENSSL_CRYPTO_LIBRARY}" DIRECTORY)
find_library(TDSIM_CRYPTO_STATIC NAMES libcrypto.a HINTS ${TDSIM_OPENSSL_LIBDIR} NO_DEFAULT_PATH)
find_library(TDSIM_BOOST_PO_STATIC NAMES libboost_program_options.a HINTS ${Boost_LIBRARY_DIRS})
# libelf (ELF guests) with the zlib it needs, and liblzma (firmware volumes): three more
# shared libraries the loader maps and relocates at every start.
find_library(TDSIM_ELF_STATIC NAMES libelf.a HINTS ${LIBELF_LIBRARY_DIRS} ${LIBELF_LIBDIR})
find_library(TDSIM_Z_STATIC NAMES libz.a)
find_library(TDSIM_LZMA_STATIC NAMES liblzma.a)
find_package(GTest REQUIRED)
find_package(Threads REQUIRED)
find_package(benchmark QUIET)

# Every host target: C++20, warnings, optional sanitizers.
function(tdsim_host_target target)
  target_compile_options(${target} PRIVATE ${TDSIM_HOST_WARNINGS} ${TDSIM_HOST_SANITIZE})
  target_link_options(${target} PRIVATE ${TDSIM_HOST_SANITIZE})
  # Headers are named from the repository root ("core/event.h"); installed, that root
  # is include/tdsim (cmake/TdsimInstall.cmake).
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/tdsim>)
endfunction()
