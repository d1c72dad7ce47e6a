# cmake -DELF=guest.elf -DREADELF=.. -DOBJDUMP=.. -P check_guest_elf.cmake
# Post-link check of every guest ELF (run by tdsim_add_guest): the loader copies
# segments verbatim, so the file must need no relocation, and guest code must not use
# vector or x87 registers (the runtime never enables or saves that state).
foreach(v ELF READELF OBJDUMP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_guest_elf.cmake: -D${v}= missing")
  endif()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/require_no_relocations.cmake)
tdsim_require_no_relocations(${READELF} ${ELF} guest "guests must be static, non-PIE")

execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${ELF} OUTPUT_VARIABLE dis RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -d ${ELF} failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${dis}")
foreach(line ${lines})
  if(line MATCHES "%[xyz]mm[0-9]|%mm[0-7]|%st(\\(|[^a-z])|\t(f(ld|st|add|sub|mul|div|com|ucom|xch|init|ninit|n?save|rstor|xsave|xrstor|abs|chs|sqrt|sin|cos|prem|scale|rndint|cmov|free|wait|ild|ist|bld|bst|ldcw|n?stcw|ldenv|n?stenv|n?stsw)[a-z0-9]*|emms|ldmxcsr|stmxcsr|x(save|rstor)[a-z0-9]*)( |$)")
    message(FATAL_ERROR "guest ${ELF} uses vector/x87 state (build flags must forbid it):\n${line}")
  endif()
endforeach()
