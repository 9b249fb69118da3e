# `reef-sim bugs` must exit 0 and list at least six bugs, one per line as
# NAME<TAB>description (one per layer Raft's safety rests on; sim/bugs.h).
#   cmake -DREEF_SIM=path/to/reef-sim -P reef_sim_bugs.cmake
cmake_minimum_required(VERSION 3.25)  # policies for if(IN_LIST) and friends
execute_process(COMMAND ${REEF_SIM} bugs OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "reef-sim bugs exited with ${rc}: ${err}")
endif()
# A ';' in a description would split a CMake list element: count clean text.
string(REPLACE ";" "," out "${out}")
string(REGEX MATCHALL "[a-z][a-z0-9-]*\t[^\n]+\n" lines "${out}")
list(LENGTH lines count)
if(count LESS 6)
  message(FATAL_ERROR "reef-sim bugs listed ${count} NAME<TAB>description lines, want at least 6:\n${out}")
endif()
message(STATUS "reef-sim bugs: ${count} bugs")
