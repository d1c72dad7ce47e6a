# Guest programs: freestanding x86-64 ELFs that run inside the TD. Built with their own
# flags (never host flags or sanitizers); no host library, no libc.
# tdsim_add_guest(<name> SOURCES ...) makes target guest_<name> producing
# guest_<name>.elf from C (C11) and/or C++ sources, linked against tdsim::guest_runtime;
# the ELF path is in the target's TDSIM_GUEST_ELF property. Works with g++/gcc >= 12 and
# clang >= 14.
#
# The same file serves this tree (included by the top-level CMakeLists.txt) and
# installed packages (included by tdsimConfig.cmake, next to guest.ld and
# check_guest_elf.cmake): the functions find their files through
# CMAKE_CURRENT_FUNCTION_LIST_DIR and keep their flags in their own bodies, so they work
# from any directory of any project that has the tdsim::guest_runtime target.

# The flags of every guest translation unit (the runtime's too).
# -mno-red-zone: interrupts and exceptions are delivered on the running stack.
# -mno-sse/-mno-mmx/-mno-80387: guests never touch vector or x87 state (CR4.OSFXSR may
#  be off, the simulator does not model it, and this host's KVM faults on SSE in
#  guests); spelled out because clang 14 lacks the x86 -mgeneral-regs-only.
# -fcf-protection=none: no ENDBR64 padding in the 16-byte IDT stubs or anywhere else.
function(tdsim_guest_flags target)
  set(common
    -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fcf-protection=none
    -fno-asynchronous-unwind-tables -fno-unwind-tables -mno-red-zone
    -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mcmodel=small -O2 -g)
  set(cxx -fno-exceptions -fno-rtti -fno-threadsafe-statics -Wall -Wextra)
  set(c -Wall -Wextra)
  target_compile_options(${target} PRIVATE ${common}
    "$<$<COMPILE_LANGUAGE:CXX>:${cxx}>" "$<$<COMPILE_LANGUAGE:C>:${c}>")
  # C sources: C11 unless the project chose a standard (guest.h needs no more).
  get_target_property(c_standard ${target} C_STANDARD)
  if(NOT c_standard)
    set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  endif()
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endfunction()

function(tdsim_add_guest name)
  cmake_parse_arguments(G "" "" "SOURCES" ${ARGN})
  if(NOT TARGET tdsim::guest_runtime)
    message(FATAL_ERROR "tdsim_add_guest(${name}): no tdsim::guest_runtime target (find_package(tdsim) first)")
  endif()
  set(linker_script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/guest.ld)
  set(check ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_guest_elf.cmake)
  add_executable(guest_${name} ${G_SOURCES})
  tdsim_guest_flags(guest_${name})
  target_link_libraries(guest_${name} PRIVATE tdsim::guest_runtime)
  # -no-pie only for GCC: clang's driver rejects it as unused next to -static, and
  # -static alone already gives ET_EXEC there.
  target_link_options(guest_${name} PRIVATE
    -nostdlib -nostartfiles -static
    "$<$<OR:$<LINK_LANG_AND_ID:C,GNU>,$<LINK_LANG_AND_ID:CXX,GNU>>:-no-pie>"
    -Wl,-T,${linker_script} -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack)
  set_target_properties(guest_${name} PROPERTIES OUTPUT_NAME guest_${name}.elf
    LINK_DEPENDS ${linker_script}
    TDSIM_GUEST_ELF ${CMAKE_CURRENT_BINARY_DIR}/guest_${name}.elf)
  # The runtime is C++, which would make CMake link with the C++ driver; a project
  # without C++ links with the C one (nothing from either standard library is linked).
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT CXX IN_LIST languages)
    set_target_properties(guest_${name} PROPERTIES LINKER_LANGUAGE C)
  endif()
  add_custom_command(TARGET guest_${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DELF=$<TARGET_FILE:guest_${name}> -DREADELF=${CMAKE_READELF}
      -DOBJDUMP=${CMAKE_OBJDUMP} -P ${check}
    COMMENT "Checking guest ELF guest_${name}.elf (no relocations, no SSE/x87)"
    VERBATIM)
endfunction()
