# Warning and sanitizer flags shared by every blksim target.
add_library(blksim_options INTERFACE)
target_compile_options(blksim_options INTERFACE -Wall -Wextra -Wpedantic
                       $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>
                       -Wnon-virtual-dtor -Wno-missing-field-initializers
                       # g++ 12 reports impossible overlaps in inlined std::string
                       # concatenation (GCC bug 105329): a false positive.
                       $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
                       # In a unity batch every source but the first is an
                       # included file, so g++ takes a coroutine frame that
                       # holds a type of the source's anonymous namespace for
                       # a header type with internal linkage: a false positive.
                       $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${BLKSIM_UNITY_BUILD}>>:-Wno-subobject-linkage>)
# QEMU builds with -fwrapv: the reference's int64_t offsets wrap where
# `offset + bytes` passes INT64_MAX, and the port must compute what it computes.
target_compile_options(blksim_options INTERFACE -fwrapv)
if(BLKSIM_WERROR)
  target_compile_options(blksim_options INTERFACE -Werror)
endif()
if(BLKSIM_SANITIZE)
  target_compile_options(blksim_options INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                         # clang 14 cannot emit -fsanitize=function's prologue
                         # for coroutines of templates ("Cannot represent a
                         # difference across sections", LLVM issue 49689).
                         $<$<CXX_COMPILER_ID:Clang>:-fno-sanitize=function>)
  target_link_options(blksim_options INTERFACE -fsanitize=address,undefined)
endif()

# Source-based coverage needs clang: gcov does not attribute coroutine bodies to
# their source lines, and the engine is made of coroutines.
if(BLKSIM_COVERAGE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BLKSIM_COVERAGE needs clang++ (CXX=clang++): gcov cannot see inside coroutines")
  endif()
  target_compile_options(blksim_options INTERFACE -fprofile-instr-generate -fcoverage-mapping)
  target_link_options(blksim_options INTERFACE -fprofile-instr-generate)
endif()

# libFuzzer: every object carries the fuzzer's coverage counters (so the
# parsers the fuzz targets call are guided); only fuzz/ links the fuzzer's main.
# The instrumentation does not change behaviour: blksim of this build still
# gives the same fingerprints.
if(BLKSIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BLKSIM_FUZZ needs clang++ (CXX=clang++): libFuzzer is clang's")
  endif()
  target_compile_options(blksim_options INTERFACE -fsanitize=fuzzer-no-link)
  target_link_options(blksim_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# Every executable calls this: sanitizer builds get their default options.
function(blksim_executable target)
  if(BLKSIM_SANITIZE)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/sanitizer_defaults.cc)
  endif()
endfunction()
# Source locations in verdicts read "engine/write.cc:42" wherever the tree lives.
target_compile_options(blksim_options INTERFACE "-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=")
target_compile_definitions(blksim_options INTERFACE BLKSIM_VERSION="${PROJECT_VERSION}")
