# Fails when any file of the repository names the research notes kept outside it (the
# two notes files and the directory that holds them). Whatever the code relies on is
# restated in docs/ (docs/tdx-abi.md, docs/engine-quirks.md) and cited there.
#
# Run: cmake -DSOURCE_DIR=<repo> [-DBINARY_DIR=<build>] -P no_outside_citations.cmake
# Skipped: .git, .cache, top-level build* directories, any top-level directory holding a
# CMakeCache.txt, and BINARY_DIR. The names searched for are assembled from pieces below
# so that this file does not match itself.
cmake_minimum_required(VERSION 3.20)

if(NOT SOURCE_DIR OR NOT IS_DIRECTORY "${SOURCE_DIR}")
  message(FATAL_ERROR "no_outside_citations: pass -DSOURCE_DIR=<repository root>")
endif()
get_filename_component(src "${SOURCE_DIR}" REALPATH)
set(bin "")
if(BINARY_DIR)
  get_filename_component(bin "${BINARY_DIR}" REALPATH)
endif()

# Case-insensitive regex for a word: every letter becomes [xX].
function(ci_regex out word)
  string(LENGTH "${word}" n)
  set(r "")
  if(n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE 0 ${last})
      string(SUBSTRING "${word}" ${i} 1 c)
      string(TOLOWER "${c}" lo)
      string(TOUPPER "${c}" up)
      if(lo STREQUAL up)
        string(APPEND r "${c}")
      else()
        string(APPEND r "[${lo}${up}]")
      endif()
    endforeach()
  endif()
  set(${out} "${r}" PARENT_SCOPE)
endfunction()

string(JOIN "-" facts_note "tdx" "facts")
string(JOIN "-" engine_note "engine" "notes")
string(JOIN "/" notes_dir "shared" "docs")
set(alternatives "")
foreach(w IN ITEMS "${facts_note}" "${engine_note}" "${notes_dir}")
  ci_regex(r "${w}")
  list(APPEND alternatives "${r}")
endforeach()
list(JOIN alternatives "|" pattern)
if(DEBUG_PATTERN)
  message(STATUS "no_outside_citations: pattern ${pattern}")
endif()

file(GLOB top LIST_DIRECTORIES true RELATIVE "${src}" "${src}/*" "${src}/.*")
set(files "")
foreach(entry IN LISTS top)
  set(path "${src}/${entry}")
  if(entry STREQUAL ".git" OR entry STREQUAL ".cache" OR entry MATCHES "^build")
    continue()
  endif()
  if(IS_DIRECTORY "${path}")
    get_filename_component(real "${path}" REALPATH)
    if(EXISTS "${path}/CMakeCache.txt" OR (bin AND real STREQUAL bin))
      continue()
    endif()
    file(GLOB_RECURSE sub LIST_DIRECTORIES false "${path}/*")
    list(APPEND files ${sub})
  else()
    list(APPEND files "${path}")
  endif()
endforeach()

list(LENGTH files nfiles)
if(nfiles LESS 10)
  message(FATAL_ERROR "no_outside_citations: only ${nfiles} files under ${src}; wrong SOURCE_DIR?")
endif()

set(hits "")
foreach(f IN LISTS files)
  file(STRINGS "${f}" lines REGEX "${pattern}")
  foreach(line IN LISTS lines)
    file(RELATIVE_PATH rel "${src}" "${f}")
    string(STRIP "${line}" line)
    string(APPEND hits "  ${rel}: ${line}\n")
  endforeach()
endforeach()

if(hits)
  message(FATAL_ERROR
    "Files cite notes outside the repository. Restate the fact in docs/ and cite that "
    "section instead (docs/tdx-abi.md, docs/engine-quirks.md):\n${hits}")
endif()
message(STATUS "no_outside_citations: ${nfiles} files checked, none cites notes outside the repository")
