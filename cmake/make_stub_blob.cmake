# cmake -DOBJ=stub.o -DBIN=stub.bin -DINC=symbols.inc -DREADELF=.. -DOBJCOPY=.. -DNM=..
#       -DOFFSETS_H=td_boot_offsets.h -P make_stub_blob.cmake
# Turns an assembled stub object into the flat blob that is copied to end at the reset
# vector. Fails the build if the object could not run from that copy unchanged: any
# relocation (the blob is never linked), any allocated section other than .text (it
# would be silently dropped), or a size the reset vector's JMP rel8 cannot reach.
foreach(v OBJ BIN INC READELF OBJCOPY NM OFFSETS_H)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "make_stub_blob.cmake: -D${v}= missing")
  endif()
endforeach()

# The size limit comes from the ABI header via the generated offsets, not a copy.
file(STRINGS ${OFFSETS_H} max_line REGEX "^#define TD_BOOT_MAX_STUB_SIZE ")
if(NOT max_line MATCHES "^#define TD_BOOT_MAX_STUB_SIZE (0x[0-9a-f]+)$")
  message(FATAL_ERROR "${OFFSETS_H} does not define TD_BOOT_MAX_STUB_SIZE")
endif()
math(EXPR MAX_SIZE "${CMAKE_MATCH_1}")

include(${CMAKE_CURRENT_LIST_DIR}/require_no_relocations.cmake)
tdsim_require_no_relocations(${READELF} ${OBJ} stub
  "a boot stub blob is never linked, so every address must be an absolute expression")

execute_process(COMMAND ${READELF} -S -W ${OBJ} OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${READELF} -S ${OBJ} failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${sections}")
foreach(line ${lines})
  # [Nr] Name Type Address Off Size ES Flg ...
  if(line MATCHES "\\][ ]+([^ ]+)[ ]+([A-Z_]+)[ ]+[0-9a-f]+[ ]+[0-9a-f]+[ ]+([0-9a-f]+)[ ]+[0-9a-f]+[ ]+([A-Za-z]*)")
    set(name ${CMAKE_MATCH_1})
    set(size ${CMAKE_MATCH_3})
    set(flags "${CMAKE_MATCH_4}")
    if(flags MATCHES "A" AND NOT name STREQUAL ".text" AND NOT size MATCHES "^0+$")
      message(FATAL_ERROR "stub ${OBJ}: allocated section ${name} (0x${size} bytes) would be "
        "dropped from the blob; put everything in .text")
    endif()
  endif()
endforeach()

execute_process(COMMAND ${OBJCOPY} -O binary -j .text ${OBJ} ${BIN} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJCOPY} -O binary -j .text ${OBJ} failed (${rc})")
endif()
file(SIZE ${BIN} size)
if(size EQUAL 0 OR size GREATER MAX_SIZE)
  message(FATAL_ERROR "stub ${BIN} is ${size} bytes; it must be 1..${MAX_SIZE} so that "
    "the JMP rel8 at the reset vector reaches its start (size + 2 <= 128)")
endif()

# Label offsets for traces and fault reports, from the object's own symbol table.
execute_process(COMMAND ${NM} --defined-only ${OBJ} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${OBJ} failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${syms}")
set(out "// Generated from ${OBJ} by make_stub_blob.cmake; do not edit.\n")
foreach(line ${lines})
  if(line MATCHES "^([0-9a-f]+) [tT] ([A-Za-z_][A-Za-z0-9_.]*)$")
    string(APPEND out "{\"${CMAKE_MATCH_2}\", 0x${CMAKE_MATCH_1}},\n")
  endif()
endforeach()
file(WRITE ${INC} "${out}")
