// libFuzzer target: arbitrary bytes -> a cluster schedule
// (tests/raft/support/schedule.h, from_bytes) -> a run of real cores on the
// in-memory harness. Any violation of election safety, log matching, leader
// completeness, state machine safety, vote safety, read linearizability, a
// core's own invariants (REEF_ASSERT aborts), or liveness once the cluster is
// healed, is a crash that libFuzzer saves as a reproducer.
//
// Replay a saved input with the trace of every action:
//   REEF_SCHEDULE_TRACE=1 build-fuzz/bin/raft_schedule_fuzzer crash-<sha1>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <span>

#include "tests/raft/support/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reef::raft::testing;
  const Schedule schedule = from_bytes(std::span<const uint8_t>(data, size));
  static const bool trace = std::getenv("REEF_SCHEDULE_TRACE") != nullptr;
  RunOptions options;
  if (trace) options.trace = &std::cerr;
  const RunResult result = run_schedule(schedule, options);
  if (!result.ok()) {
    std::fprintf(stderr, "raft_schedule_fuzzer: %s\n%s\n",
                 result.violation ? result.violation->c_str() : result.liveness_failure->c_str(),
                 describe(schedule).c_str());
    __builtin_trap();
  }
  return 0;
}
