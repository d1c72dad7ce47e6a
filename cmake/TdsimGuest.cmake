# Guest programs: freestanding x86-64 ELFs that run inside the TD. Built with their own
# flags (never host flags or sanitizers); no host library, no libc.
# tdsim_add_guest(<name> SOURCES ...) makes target guest_<name> producing
# guest_<name>.elf, linked against tdsim_guest_runtime; the ELF path is in the target's
# TDSIM_GUEST_ELF property. Works with g++ >= 12 and clang++ >= 14 as CMAKE_CXX_COMPILER.
set(TDSIM_GUEST_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/guest.ld)
# -mno-red-zone: interrupts and exceptions are delivered on the running stack.
# -mno-sse/-mno-mmx/-mno-80387: guests never touch vector or x87 state (CR4.OSFXSR may
#  be off, and the simulator does not model it); spelled out because clang 14 lacks the
#  x86 -mgeneral-regs-only.
# -fcf-protection=none: no ENDBR64 padding in the 16-byte IDT stubs or anywhere else.
set(TDSIM_GUEST_COMMON_FLAGS
  -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fcf-protection=none
  -fno-asynchronous-unwind-tables -fno-unwind-tables -mno-red-zone
  -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mcmodel=small -O2 -g)
set(TDSIM_GUEST_CXX_FLAGS
  -fno-exceptions -fno-rtti -fno-threadsafe-statics -Wall -Wextra)
# -no-pie only for GCC: clang's driver rejects it as unused next to -static, and -static
# alone already gives ET_EXEC there.
set(TDSIM_GUEST_LDFLAGS
  -nostdlib -nostartfiles -static $<$<CXX_COMPILER_ID:GNU>:-no-pie> -Wl,-T,${TDSIM_GUEST_LINKER_SCRIPT}
  -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack)

function(tdsim_guest_flags target)
  target_compile_options(${target} PRIVATE ${TDSIM_GUEST_COMMON_FLAGS}
    "$<$<COMPILE_LANGUAGE:CXX>:${TDSIM_GUEST_CXX_FLAGS}>")
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endfunction()

function(tdsim_add_guest name)
  cmake_parse_arguments(G "" "" "SOURCES" ${ARGN})
  add_executable(guest_${name} ${G_SOURCES})
  tdsim_guest_flags(guest_${name})
  target_link_libraries(guest_${name} PRIVATE tdsim_guest_runtime)
  target_link_options(guest_${name} PRIVATE ${TDSIM_GUEST_LDFLAGS})
  set_target_properties(guest_${name} PROPERTIES OUTPUT_NAME guest_${name}.elf
    LINK_DEPENDS ${TDSIM_GUEST_LINKER_SCRIPT}
    TDSIM_GUEST_ELF ${CMAKE_CURRENT_BINARY_DIR}/guest_${name}.elf)
  # Resolved at call time: function bodies see the caller's variables, not this file's.
  set(check ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../ucall/guest/check_guest_elf.cmake)
  add_custom_command(TARGET guest_${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DELF=$<TARGET_FILE:guest_${name}> -DREADELF=${CMAKE_READELF}
      -DOBJDUMP=${CMAKE_OBJDUMP} -P ${check}
    COMMENT "Checking guest ELF guest_${name}.elf (no relocations, no SSE/x87)"
    VERBATIM)
endfunction()
