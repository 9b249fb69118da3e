// Whole simulation runs: real nodes, SQL state machines, workload, faults,
// and every checker, driven by one seed.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/bugs.h"
#include "sim/sim_run.h"

namespace reef::sim {
namespace {

RunConfig short_run(uint64_t seed, uint64_t seconds = 5) {
  RunConfig config = RunConfig::from_seed(seed);
  config.duration_ms = seconds * 1000;
  return config;
}

TEST(SimRunTest, SeedsPassEveryCheck) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const RunReport report = run_simulation(short_run(seed));
    EXPECT_TRUE(report.ok()) << report.to_json();
    EXPECT_GT(report.ops_ok, 0u) << report.to_json();
    std::printf("%s\n", report.to_json().c_str());
  }
}

TEST(SimRunTest, SameSeedSameTraceHash) {
  const RunReport a = run_simulation(short_run(42, 3));
  const RunReport b = run_simulation(short_run(42, 3));
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  const RunReport c = run_simulation(short_run(43, 3));
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

}  // namespace
}  // namespace reef::sim
