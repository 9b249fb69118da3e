// Simulator speed: simulated seconds per wall second and events per wall
// second for a 5-node cluster under 200 client operations per simulated
// second with every fault class on (issue 5's benchmark), next to a baseline
// measured in the same process: the same cluster with no workload and no
// faults (what heartbeats and ticks alone cost). One core: runs are
// sequential. Prints medians over the repetitions and the ratio; "w/o
// checks" leaves out the history checks that run once at the end
// (linearizability search, weak reads), which grow faster than linearly
// with the history.
//
//   build-release/bin/sim_speed_bench [repetitions (default 5)] [sim seconds per run (default 60)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sim/run_config.h"
#include "sim/sim_run.h"

namespace reef::sim {
namespace {

RunConfig loaded(uint64_t seed, uint64_t seconds) {
  RunConfig c = RunConfig::from_seed(seed, 5);
  c.duration_ms = seconds * 1000;
  c.workload.ops_per_second = 200;
  c.workload.clients = 10;
  c.faults.crashes = true;
  c.faults.pauses = true;
  c.faults.partitions = true;
  c.faults.disk_errors = true;
  c.faults.disk_error_per_million = 300;
  c.faults.drift_max_ppm = 20'000;
  c.faults.set_targeted_crashes(50);
  c.node.core.lease_reads = false;  // pauses are on (raft/core/config.h)
  c.network.loss_per_million = 10'000;
  c.network.duplicate_per_million = 5'000;
  return c;
}

RunConfig idle(uint64_t seed, uint64_t seconds) {
  RunConfig c = loaded(seed, seconds);
  c.workload.ops_per_second = 1;
  c.workload.clients = 1;
  c.faults = FaultPlan{.crashes = false, .pauses = false, .partitions = false, .clock_drift = false};
  c.network.loss_per_million = 0;
  c.network.duplicate_per_million = 0;
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Figures {
  double speed = 0;  // simulated seconds per wall second, the whole run
  double events_per_second = 0;
  double simulation_speed = 0;  // the same without the history checks at the end
  double check_seconds = 0;
  bool all_ok = true;
};

Figures measure(RunConfig (*make)(uint64_t, uint64_t), int repetitions, uint64_t seconds) {
  std::vector<double> speed;
  std::vector<double> events;
  std::vector<double> simulation;
  std::vector<double> checks;
  Figures f;
  for (int r = 0; r < repetitions; ++r) {
    const RunReport report = run_simulation(make(1000 + r, seconds));
    f.all_ok = f.all_ok && report.ok();
    speed.push_back(report.sim_seconds / report.wall_seconds);
    events.push_back(static_cast<double>(report.events) / report.wall_seconds);
    simulation.push_back(report.sim_seconds / (report.wall_seconds - report.check_wall_seconds));
    checks.push_back(report.check_wall_seconds);
    if (getenv("SIM_SPEED_RUNS") != nullptr) {
      std::printf("    run %d: sim %.1f s, wall %.3f s, checks %.3f s, events %llu\n", r, report.sim_seconds,
                  report.wall_seconds, report.check_wall_seconds, static_cast<unsigned long long>(report.events));
    }
    if (r == 0 && getenv("SIM_SPEED_FAULTS") != nullptr) {
      for (const auto& [kind, n] : report.faults) std::printf("    %s %llu\n", kind.c_str(), (unsigned long long)n);
    }
  }
  f.simulation_speed = median(simulation);
  f.check_seconds = median(checks);
  f.speed = median(speed);
  f.events_per_second = median(events);
  return f;
}

}  // namespace
}  // namespace reef::sim

int main(int argc, char** argv) {
  const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const uint64_t seconds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 60;
  const reef::sim::Figures base = reef::sim::measure(reef::sim::idle, repetitions, seconds);
  const reef::sim::Figures load = reef::sim::measure(reef::sim::loaded, repetitions, seconds);
  std::printf("sim speed, 5 nodes, %llu simulated s per run, median of %d runs (one core)\n",
              static_cast<unsigned long long>(seconds), repetitions);
  std::printf("  %-36s %12s %14s %14s %10s\n", "", "sim s/wall s", "events/wall s", "w/o checks", "checks s");
  const auto row = [](const char* name, const reef::sim::Figures& f) {
    std::printf("  %-36s %12.0f %14.0f %14.0f %10.2f\n", name, f.speed, f.events_per_second, f.simulation_speed,
                f.check_seconds);
  };
  row("baseline: idle cluster, no faults", base);
  row("200 ops/s, every fault class on", load);
  std::printf("  loaded / baseline speed: %.2f; aim 500x real time: %s\n", load.speed / base.speed,
              load.speed >= 500 ? "met" : "not met");
  if (!base.all_ok || !load.all_ok) std::printf("  WARNING: a run reported a violation\n");
  return 0;
}
