# Guest programs: freestanding x86-64 ELFs that run inside the TD. Built with their own
# flags; no host library, no libc. tdsim_add_guest(<name> SOURCES ...) makes target
# guest_<name> producing guest_<name>.elf, linked against tdsim_guest_runtime.
set(TDSIM_GUEST_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/guest.ld)
set(TDSIM_GUEST_CFLAGS
  -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-exceptions -fno-rtti
  -fno-asynchronous-unwind-tables -fno-threadsafe-statics -mno-red-zone
  -mno-sse -mno-mmx -mno-80387 -mcmodel=small -O2 -g -Wall -Wextra)
set(TDSIM_GUEST_LDFLAGS
  -nostdlib -nostartfiles -static -no-pie -Wl,-T,${TDSIM_GUEST_LINKER_SCRIPT}
  -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack)

function(tdsim_guest_flags target)
  target_compile_options(${target} PRIVATE ${TDSIM_GUEST_CFLAGS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
endfunction()

function(tdsim_add_guest name)
  cmake_parse_arguments(G "" "" "SOURCES" ${ARGN})
  add_executable(guest_${name} ${G_SOURCES})
  tdsim_guest_flags(guest_${name})
  target_link_libraries(guest_${name} PRIVATE tdsim_guest_runtime)
  target_link_options(guest_${name} PRIVATE ${TDSIM_GUEST_LDFLAGS})
  set_target_properties(guest_${name} PROPERTIES OUTPUT_NAME guest_${name}.elf
    LINK_DEPENDS ${TDSIM_GUEST_LINKER_SCRIPT})
endfunction()
