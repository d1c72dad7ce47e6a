# include()d by the -P scripts that check guest ELFs (check_guest_elf.cmake) and boot
# stub objects (make_stub_blob.cmake): both are copied into the TD verbatim, with no
# loader to apply relocations, so a file that still carries any is refused at build time.
#
# tdsim_require_no_relocations(READELF FILE WHAT WHY)
#   Fails the build, naming WHAT ("guest", "stub") and FILE, with WHY (what the author
#   must change) and readelf's listing, if `readelf -r FILE` shows a relocation section.
function(tdsim_require_no_relocations readelf file what why)
  execute_process(COMMAND ${readelf} -r -W ${file} OUTPUT_VARIABLE relocs RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${readelf} -r ${file} failed (${rc})")
  endif()
  if(relocs MATCHES "Relocation section")
    message(FATAL_ERROR "${what} ${file} has relocations; ${why}:\n${relocs}")
  endif()
endfunction()
