# Host libraries, all from Debian packages (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(UNICORN REQUIRED IMPORTED_TARGET unicorn)
pkg_check_modules(CAPSTONE REQUIRED IMPORTED_TARGET capstone)
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(GTest REQUIRED)
find_package(Threads REQUIRED)
find_package(benchmark QUIET)

# Every host target: C++20, warnings, optional sanitizers.
function(tdsim_host_target target)
  target_compile_options(${target} PRIVATE ${TDSIM_HOST_WARNINGS} ${TDSIM_HOST_SANITIZE})
  target_link_options(${target} PRIVATE ${TDSIM_HOST_SANITIZE})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
