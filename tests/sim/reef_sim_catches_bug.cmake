# Checker teeth: a swarm of seeds with a deliberate bug switched on must
# report at least one failing seed (exit 1 with failing seeds listed), and
# must not crash doing so; the same swarm with the bug's settings but the bug
# switched off must pass.
#   cmake -DREEF_SIM=path/to/reef-sim -DBUG=NAME -DSEEDS=1..200 -DDURATION=10 -P reef_sim_catches_bug.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(
  COMMAND ${REEF_SIM} swarm --seeds ${SEEDS} --jobs 2 --duration ${DURATION} --bug ${BUG}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "reef-sim swarm --bug ${BUG} exited with ${rc} (want 1: a violation found)\n${out}\n${err}")
endif()
if(out MATCHES "crashed: signal")
  message(FATAL_ERROR "a seed crashed instead of reporting a violation:\n${out}")
endif()
string(REGEX MATCH "failed +([0-9]+)" failed_line "${out}")
message(STATUS "--bug ${BUG}: ${failed_line}")

# Control: the same settings with the bug switched off must pass, or the
# violation above came from the settings rather than from the bug.
execute_process(
  COMMAND ${REEF_SIM} swarm --seeds ${SEEDS} --jobs 2 --duration ${DURATION} --bug-settings ${BUG}
  OUTPUT_VARIABLE control_out ERROR_VARIABLE control_err RESULT_VARIABLE control_rc)
if(NOT control_rc EQUAL 0)
  message(FATAL_ERROR "control run --bug-settings ${BUG} failed (exit ${control_rc}): the settings alone "
                      "produce violations, so the bug is not what was caught\n${control_out}\n${control_err}")
endif()
message(STATUS "--bug-settings ${BUG}: all seeds passed")
