#include "sim/run_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raft/core/random.h"
#include "sim/seed.h"

namespace reef::sim {
namespace {

// Weighted choice of an intensity: 0 = off, 1 = light, 2 = heavy.
int intensity(raft::Prng& rng) {
  const uint64_t roll = rng.below(10);
  return roll < 3 ? 0 : roll < 7 ? 1 : 2;
}

void draw_timing(raft::Prng& rng, RunConfig& c) {
  c.tick_ms = rng.chance(1, 2) ? 10 : 20;
  raft::CoreConfig& core = c.node.core;
  core.election_timeout_ticks = static_cast<uint32_t>(rng.between(10, 20));
  core.heartbeat_interval_ticks = static_cast<uint32_t>(rng.between(1, 3));
  core.pre_vote = rng.chance(4, 5);
  core.check_quorum = true;
  core.max_entries_per_message = static_cast<uint32_t>(rng.chance(1, 3) ? 4 : 256);
  c.node.snapshot.entries = rng.chance(1, 2) ? rng.between(20, 100) : 5000;
  c.node.snapshot_chunk_bytes = rng.chance(1, 2) ? 4096 : (1u << 20);
  c.disk_latency_max_us = rng.chance(1, 4) ? 20'000 : 3000;
}

void draw_network(raft::Prng& rng, RunConfig& c) {
  const int chaos = intensity(rng);
  c.network.latency_min_us = 200;
  c.network.latency_max_us = chaos == 2 ? 30'000 : 5000;
  c.network.loss_per_million = chaos == 0 ? 0 : chaos == 1 ? 10'000 : 60'000;
  c.network.duplicate_per_million = chaos == 0 ? 0 : chaos == 1 ? 5'000 : 30'000;
}

void draw_faults(raft::Prng& rng, RunConfig& c) {
  FaultPlan& f = c.faults;
  const int crash_intensity = intensity(rng);
  f.crashes = crash_intensity > 0;
  f.set_targeted_crashes(crash_intensity == 2 ? 50 : 0);
  f.partitions = intensity(rng) > 0;
  f.disk_errors = rng.chance(1, 5);
  f.disk_error_per_million = f.disk_errors ? 300 : 0;
  f.clock_drift = rng.chance(1, 2);
  f.drift_max_ppm = f.clock_drift ? 20'000 : 0;
  const int pace = intensity(rng);
  f.interval_min_ms = pace == 2 ? 100 : 300;
  f.interval_max_ms = pace == 2 ? 800 : 2500;
  // Leases assume bounded clock drift and no process pauses (raft/core/config.h);
  // a run with lease reads honours that, or it would report what the
  // documentation already says can happen.
  c.node.core.lease_reads = rng.chance(1, 3);
  if (c.node.core.lease_reads) {
    c.node.core.lease_clock_margin_ticks = 2;
    f.pauses = false;
    f.drift_max_ppm = std::min<int64_t>(f.drift_max_ppm, 10'000);
  } else {
    f.pauses = intensity(rng) > 0;
  }
}

void draw_workload(raft::Prng& rng, RunConfig& c) {
  WorkloadOptions& w = c.workload;
  w.clients = rng.between(3, 12);
  w.keys = rng.between(1, 8);
  w.ops_per_second = rng.between(50, 300);
  w.mix.write = static_cast<uint32_t>(rng.between(10, 40));
  w.mix.cas = static_cast<uint32_t>(rng.between(0, 20));
  w.mix.read_linearizable = static_cast<uint32_t>(rng.between(10, 40));
  w.mix.read_strong = static_cast<uint32_t>(rng.between(0, 15));
  w.mix.read_weak = static_cast<uint32_t>(rng.between(0, 10));
  w.mix.read_none = static_cast<uint32_t>(rng.between(0, 10));
  w.mix.sql = static_cast<uint32_t>(rng.between(0, 10));
}

// From a stream of its own, so that adding it left every other draw of a
// seed as it was.
void draw_membership(uint64_t seed, RunConfig& c) {
  raft::Prng rng(derive_seed(seed, "swarm membership"));
  FaultPlan& f = c.faults;
  f.membership = rng.chance(1, 2);
  const bool hectic = rng.chance(1, 3);
  f.membership_interval_min_ms = hectic ? 200 : 800;
  f.membership_interval_max_ms = hectic ? 1000 : 3000;
}

}  // namespace

RunConfig RunConfig::from_seed(uint64_t seed, size_t nodes) {
  raft::Prng rng(derive_seed(seed, "swarm"));
  RunConfig c;
  c.seed = seed;
  c.nodes = rng.chance(1, 2) ? 3 : 5;
  if (nodes != 0) c.nodes = nodes;
  draw_timing(rng, c);
  draw_network(rng, c);
  draw_faults(rng, c);
  draw_workload(rng, c);
  draw_membership(seed, c);
  return c;
}

std::string RunConfig::describe() const {
  std::vector<std::string> on;
  if (faults.crashes) on.push_back("crashes");
  if (faults.pauses) on.push_back("pauses");
  if (faults.partitions) on.push_back("partitions");
  if (faults.disk_errors) on.push_back("disk-errors");
  if (faults.membership) {
    on.push_back(absl::StrCat("membership-every-", faults.membership_interval_min_ms, "..",
                              faults.membership_interval_max_ms, "ms"));
  }
  if (faults.drift_max_ppm > 0) on.push_back(absl::StrCat("drift<=", faults.drift_max_ppm, "ppm"));
  if (faults.wall_clock_skew_max_ms > 0) {
    on.push_back(absl::StrCat("wall-skew<=", faults.wall_clock_skew_max_ms, "ms"));
  }
  if (network.loss_per_million > 0) on.push_back(absl::StrCat("loss=", network.loss_per_million / 10000.0, "%"));
  if (network.duplicate_per_million > 0) on.push_back("duplicates");
  return absl::StrCat(nodes, " nodes, tick ", tick_ms, " ms, election ", node.core.election_timeout_ticks,
                      " ticks, ", node.core.lease_reads ? "lease reads, " : "", "snapshot every ",
                      node.snapshot.entries, " entries, ", workload.clients, " clients x ", workload.keys,
                      " keys at ", workload.ops_per_second, " ops/s; faults: ",
                      on.empty() ? "none" : absl::StrJoin(on, " "),
                      bugs.empty() ? ""
                      : absl::StrCat(bugs_switched_off ? "; settings of bugs (switched off): " : "; bugs: ",
                                     absl::StrJoin(bugs, " ")));
}

}  // namespace reef::sim
