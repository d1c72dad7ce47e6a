# tdsim_embed(<out_var> <symbol> <file> <depends_target>): generate a .cc that defines
#   extern const unsigned char <symbol>[]; extern const unsigned long <symbol>_size;
# with the bytes of <file> (built by <depends_target>); append its path to <out_var>.
set(TDSIM_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)
function(tdsim_embed out_var symbol file depends)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol} -P ${TDSIM_EMBED_SCRIPT}
    DEPENDS ${file} ${depends} ${TDSIM_EMBED_SCRIPT}
    COMMENT "Embedding ${symbol}"
    VERBATIM)
  set(${out_var} ${${out_var}} ${out} PARENT_SCOPE)
endfunction()
