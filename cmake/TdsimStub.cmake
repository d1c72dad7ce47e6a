# Boot stubs: flat blobs assembled from a .S that includes the generated
# td_boot_offsets.h. tdsim_add_stub(<name> <source.S>) makes target stub_<name>
# producing ${CMAKE_CURRENT_BINARY_DIR}/stub_<name>.bin (+ stub_<name>_symbols.inc, the
# label offsets). The blob is checked to carry no relocations and fit the reset-vector
# JMP rel8. Requires bootstub/stub to have been configured first (it makes the header).
function(tdsim_add_stub name src)
  get_property(offsets_dir GLOBAL PROPERTY TDSIM_BOOT_OFFSETS_DIR)
  if(NOT offsets_dir)
    message(FATAL_ERROR "tdsim_add_stub(${name}): bootstub/stub must be configured first")
  endif()
  # Resolved here, not at include time: a function body sees its caller's variables.
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../bootstub/stub/make_stub_blob.cmake)
  get_filename_component(src ${src} ABSOLUTE)
  set(base ${CMAKE_CURRENT_BINARY_DIR}/stub_${name})
  # Assembled directly with the C compiler driver (GNU as or clang's integrated
  # assembler, both tested): not through a host target, so no host or sanitizer flags.
  add_custom_command(
    OUTPUT ${base}.o
    COMMAND ${CMAKE_C_COMPILER} -c -x assembler-with-cpp -I${offsets_dir} ${src} -o ${base}.o
    DEPENDS ${src} ${offsets_dir}/td_boot_offsets.h tdsim_boot_offsets
    COMMENT "Assembling boot stub ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${base}.bin ${base}_symbols.inc
    COMMAND ${CMAKE_COMMAND} -DOBJ=${base}.o -DBIN=${base}.bin -DINC=${base}_symbols.inc
      -DREADELF=${CMAKE_READELF} -DOBJCOPY=${CMAKE_OBJCOPY} -DNM=${CMAKE_NM}
      -DOFFSETS_H=${offsets_dir}/td_boot_offsets.h
      -P ${script}
    DEPENDS ${base}.o ${script} ${offsets_dir}/td_boot_offsets.h
    COMMENT "Checking and flattening boot stub ${name}"
    VERBATIM)
  add_custom_target(stub_${name} ALL DEPENDS ${base}.bin ${base}_symbols.inc)
  add_dependencies(stub_${name} tdsim_boot_offsets)
  set_target_properties(stub_${name} PROPERTIES
    TDSIM_STUB_BIN ${base}.bin TDSIM_STUB_OBJ ${base}.o TDSIM_STUB_SYMBOLS ${base}_symbols.inc)
endfunction()
