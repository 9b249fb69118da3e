# Runs `reef-sim run` twice for each of three seeds and fails unless both
# runs pass and print the same trace_hash, different seeds print different
# hashes, and a run with --trace (hooks on) prints the same hash as one
# without: nothing but the seed's RunConfig may influence a run.
#   cmake -DREEF_SIM=path/to/reef-sim -DWORK_DIR=dir -P reef_sim_same_hash.cmake
cmake_minimum_required(VERSION 3.25)  # policies for if(IN_LIST) and friends
set(seeds 1 2 3)
set(trace_file ${WORK_DIR}/reef_sim_same_hash_trace.jsonl)
file(MAKE_DIRECTORY ${WORK_DIR})
set(seen_hashes)
foreach(seed ${seeds})
  foreach(run a b)
    set(extra)
    if(run STREQUAL b AND seed EQUAL 1)
      set(extra --trace ${trace_file})
    endif()
    execute_process(COMMAND ${REEF_SIM} run --seed ${seed} --duration 5 ${extra}
      OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "reef-sim run --seed ${seed} ${extra} exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
    endif()
    # The report is the last line of stdout.
    string(REGEX MATCH "\"trace_hash\":\"?[0-9a-fA-Fx]+\"?" hash_${run} "${out}")
    if(NOT hash_${run})
      message(FATAL_ERROR "seed ${seed}: no trace_hash in the report:\n${out}")
    endif()
  endforeach()
  if(NOT hash_a STREQUAL hash_b)
    message(FATAL_ERROR "seed ${seed}: same seed, different trace: ${hash_a} vs ${hash_b}")
  endif()
  if(hash_a IN_LIST seen_hashes)
    message(FATAL_ERROR "seed ${seed} repeats the trace hash of another seed: ${hash_a}")
  endif()
  list(APPEND seen_hashes ${hash_a})
  message(STATUS "seed ${seed}: deterministic, ${hash_a}")
endforeach()
# --trace wrote one JSON object per event.
file(STRINGS ${trace_file} first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^{\"t_us\":[0-9]+,\"event\":\".*\"}$")
  message(FATAL_ERROR "trace file ${trace_file} does not start with an event line: '${first_line}'")
endif()
file(REMOVE ${trace_file})
