# Bounded fuzz run for CTest (see fuzz/CMakeLists.txt):
#   cmake -DFUZZER=<binary> -DSEEDS=<source corpus> -DWORK=<build corpus>
#         -DARTIFACTS=<dir/> -DSECONDS=<n> -DMAX_LEN=<bytes> -P run_fuzzer.cmake
# Starts from a fresh copy of the seed corpus in the build tree (the source
# tree stays untouched, and every run starts from the same inputs), then
# fuzzes with a fixed seed for SECONDS. Fails if the fuzzer finds a crash;
# the reproducer is left in ARTIFACTS. For a longer, accumulating campaign run
# the binary by hand on a corpus directory of your own.
foreach(var FUZZER SEEDS WORK ARTIFACTS SECONDS MAX_LEN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK} ${ARTIFACTS})
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK})

execute_process(
  COMMAND ${FUZZER} -seed=1 -max_total_time=${SECONDS} -max_len=${MAX_LEN} -timeout=30 -print_final_stats=1
          -artifact_prefix=${ARTIFACTS} ${WORK}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}); reproducer in ${ARTIFACTS}")
endif()
