#include "sim/sim_run.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <map>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "raft/core/assert.h"
#include "sim/applied_time_checker.h"
#include "sim/bugs.h"
#include "sim/checked_state_machine.h"
#include "sim/commit_quorum_checker.h"
#include "sim/fault_injector.h"
#include "sim/history.h"
#include "sim/linearizability_checker.h"
#include "sim/membership_faults.h"
#include "sim/raft_safety_checker.h"
#include "sim/seed.h"
#include "sim/sim_cluster.h"
#include "sim/workload.h"

namespace reef::sim {
namespace {

// Replicas' state hashes are compared at every applied index that is a
// multiple of this (a hash reads the whole database).
constexpr uint64_t kHashEvery = 64;
// Raft safety is checked this often in simulated time.
constexpr uint64_t kSafetyEveryUs = 20'000;
constexpr uint64_t kLinearizabilityStates = 2'000'000;

// Each node's wall clock at time zero: one date in this century for the
// run, and each node off it by up to the skew either way.
std::vector<uint64_t> wall_clock_starts(const RunConfig& c) {
  constexpr uint64_t kYear2000UnixMs = 946'684'800'000;
  constexpr uint64_t kCenturyMs = uint64_t{36'525} * 24 * 3600 * 1000;
  raft::Prng wall(derive_seed(c.seed, "wall clock"));
  const uint64_t skew_max = c.faults.wall_clock_skew_max_ms;
  const uint64_t date = kYear2000UnixMs + skew_max + wall.below(kCenturyMs - 2 * skew_max);
  std::vector<uint64_t> starts;
  for (size_t i = 0; i < c.nodes; ++i) starts.push_back(date - skew_max + wall.below(2 * skew_max + 1));
  return starts;
}

SimClusterOptions cluster_options(const RunConfig& c) {
  SimClusterOptions o;
  o.seed = c.seed;
  o.nodes = c.nodes;
  o.network = c.network;
  o.node.node = c.node;
  o.node.tick_ms = c.tick_ms;
  o.node.tick_jitter_us = c.tick_jitter_us;
  o.node.disk_latency_min_us = c.disk_latency_min_us;
  o.node.disk_latency_max_us = c.disk_latency_max_us;
  o.node.storage.log.segment_bytes = 64 << 10;
  o.node.disk_faults.torn_writes = true;
  o.node.disk_faults.lie_about_file_sync = lies_about_fsync(c);
  if (c.faults.disk_errors) {
    o.node.disk_faults.read_error_per_million = c.faults.disk_error_per_million;
    o.node.disk_faults.write_error_per_million = c.faults.disk_error_per_million;
    o.node.disk_faults.sync_error_per_million = c.faults.disk_error_per_million;
  }
  raft::Prng drift(derive_seed(c.seed, "clock drift"));
  for (size_t i = 0; i < c.nodes; ++i) {
    const int64_t max = c.faults.drift_max_ppm;
    o.clock_drift_ppm.push_back(max == 0 ? 0 : static_cast<int64_t>(drift.below(2 * max + 1)) - max);
  }
  o.wall_clock_start_unix_ms = wall_clock_starts(c);
  return o;
}

// Everything one run holds, so the phases below can share it.
class Run {
 public:
  Run(const RunConfig& config, const RunHooks& hooks)
      : config_(config),
        hooks_(hooks),
        cluster_(cluster_options(config),
                 [this](raft::NodeId id, storage::FileSystem& disk, const std::string& dir) {
                   return make_state_machine(id, disk, dir);
                 }),
        workload_(cluster_, config.workload, derive_seed(config.seed, "workload"), history_),
        faults_(cluster_, config, derive_seed(config.seed, "faults"),
                [this](raft::NodeId id) {
                  safety_.observe_restart(id);
                  commit_quorum_.observe_turn(id, nullptr);
                }),
        membership_(cluster_, config, derive_seed(config.seed, "membership")) {
    report_.seed = config.seed;
    report_.nodes = config.nodes;
    report_.config = config.describe();
    report_.bugs = config.bugs;
    report_.bugs_switched_off = config.bugs_switched_off;
  }

  RunReport run() {
    const auto wall_start = std::chrono::steady_clock::now();
    try {
      run_phases();
    } catch (const std::exception& e) {
      // A failed always-on assertion (reef-sim turns them into exceptions).
      violation(e.what());
    }
    finish_report(std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return report_;
  }

 private:
  // The node's database lives on its simulated disk, so crashes, torn
  // writes and I/O errors reach SQLite's files as they reach the log.
  absl::StatusOr<std::unique_ptr<raft::StateMachine>> make_state_machine(raft::NodeId id, storage::FileSystem& disk,
                                                                         const std::string& dir) {
    absl::StatusOr<std::unique_ptr<statemachine::SqlStateMachine>> sql =
        statemachine::SqlStateMachine::open(config_.state_machine, disk, dir);
    if (!sql.ok()) return sql.status();
    return std::make_unique<CheckedStateMachine>(
        std::move(*sql), [this, id](const raft::LogEntry& entry, statemachine::SqlStateMachine& after) {
          on_applied(id, entry, after);
        });
  }

  // The checker reads through the replica's own connection, so the disk
  // faults the injector set (an EIO on a read) would fail the checker's
  // read, not the replica: they are off while it hashes. A replica whose
  // files really are broken fails its own next apply.
  static absl::StatusOr<uint64_t> hash_without_disk_faults(SimFileSystem& fs, statemachine::SqlStateMachine& sm) {
    const SimFaults injected = fs.faults();
    fs.set_faults(injected.healed());
    absl::StatusOr<uint64_t> hash = sm.state_hash();
    fs.set_faults(injected);
    return hash;
  }

  void on_applied(raft::NodeId id, const raft::LogEntry& entry, statemachine::SqlStateMachine& after) {
    raft::Node* node = cluster_.node(id).node();
    // During boot replay the node does not exist yet and the term the entry
    // was committed in is unknown: claim none, so the leader-completeness
    // check relies only on live commits.
    safety_.observe_applied(id, entry, node != nullptr ? node->core().term() : raft::Term(UINT64_MAX));
    check_applied_time(id, entry.index, after.applied_time_ms());
    if (entry.index.value() % kHashEvery != 0) return;
    absl::StatusOr<uint64_t> hash = hash_without_disk_faults(cluster_.node(id).fs(), after);
    if (!hash.ok()) {
      violation(absl::StrCat("node ", id.value(), " state_hash failed: ", hash.status().ToString()));
      return;
    }
    auto [it, inserted] = hashes_.try_emplace(entry.index.value(), std::make_pair(id, *hash));
    if (!inserted && it->second.second != *hash) {
      violation(absl::StrCat("replica divergence: state_hash at index ", entry.index.value(), " is ",
                             absl::Hex(*hash), " on node ", id.value(), " but ", absl::Hex(it->second.second),
                             " on node ", it->second.first.value()));
    }
  }

  void check_applied_time(raft::NodeId id, raft::Index index, int64_t now_ms) {
    if (!applied_time_.ok()) return;  // reported already
    applied_time_.observe(id, index, now_ms);
    if (!applied_time_.ok()) violation(*applied_time_.violation());
  }

  void run_phases() {
    Scheduler& scheduler = cluster_.scheduler();
    if (hooks_.trace) scheduler.set_trace_sink(hooks_.trace);
    cluster_.network().set_observer([this](const raft::NodeMessage& m) {
      if (!faults_.on_message_sent(m)) return false;
      if (const auto* core_message = std::get_if<raft::Message>(&m.body)) safety_.observe_sent(*core_message);
      return true;
    });
    cluster_.set_node_created([this](SimNode& node) {
      node.set_turn_observer([this](SimNode& n) { check_commit_quorum(n); });
    });
    if (!cluster_.start_all()) violation("a node could not boot on an empty disk");
    workload_.start();
    faults_.start();
    if (config_.faults.membership) membership_.start();
    schedule_safety_check();
    run_for(config_.duration_ms * 1000);
    if (!report_.violations.empty()) return;
    final_phase();
  }

  void schedule_safety_check() {
    cluster_.scheduler().schedule_after(kSafetyEveryUs, "safety check", [this] {
      check_safety();
      schedule_safety_check();
    });
  }

  void check_safety() {
    std::map<raft::NodeId, const raft::Core*> cores;
    for (auto& n : cluster_.nodes()) {
      if (n->up()) cores.emplace(n->id(), &n->node()->core());
    }
    safety_.observe(cores);
    if (!safety_.ok() && !safety_reported_) {
      safety_reported_ = true;
      violation(*safety_.violation());
    }
    note_leader();
  }

  void check_commit_quorum(SimNode& node) {
    if (!commit_quorum_.ok()) return;  // reported already
    commit_quorum_.observe_turn(node.id(), node.up() ? &node.node()->core() : nullptr);
    if (!commit_quorum_.ok()) violation(*commit_quorum_.violation());
  }

  void note_leader() {
    SimNode* leader = cluster_.leader();
    if (leader == nullptr) return;
    const std::pair<uint64_t, uint64_t> current{leader->node()->core().term().value(), leader->id().value()};
    if (current != last_leader_) {
      ++report_.leader_changes;
      last_leader_ = current;
    }
  }

  // Runs the world until `end_us` passed or a violation stops the run.
  void run_for(uint64_t duration_us) {
    Scheduler& scheduler = cluster_.scheduler();
    const uint64_t end = scheduler.now_us() + duration_us;
    uint64_t next_progress = scheduler.now_us() + hooks_.progress_every_us;
    while (scheduler.now_us() <= end && report_.violations.empty() && scheduler.run_next()) {
      if (hooks_.progress && scheduler.now_us() >= next_progress) {
        fill_counters();
        hooks_.progress(report_, scheduler.now_us());
        next_progress += hooks_.progress_every_us;
      }
    }
  }

  void final_phase() {
    workload_.stop_issuing();
    membership_.stop();
    cluster_.network().set_faults(NetworkFaults{config_.network.latency_min_us, config_.network.latency_min_us * 2});
    std::string why;
    if (!faults_.heal_all(&why)) {
      violation(absl::StrCat("liveness: ", why));
      return;
    }
    const uint64_t deadline = cluster_.scheduler().now_us() + config_.heal_timeout_ms * 1000;
    while (cluster_.scheduler().now_us() < deadline && !(workload_.idle() && converged())) {
      run_for(100'000);
      if (!report_.violations.empty()) return;
    }
    if (!workload_.idle()) {
      violation(absl::StrCat("liveness: operations still pending ", config_.heal_timeout_ms,
                             " ms after the heal (setup done: ", workload_.setup_done() ? "yes" : "no", ")"));
      return;
    }
    if (!converged()) {
      violation(absl::StrCat("liveness: nodes did not converge within ", config_.heal_timeout_ms,
                             " ms after the heal: ", convergence_state()));
      return;
    }
    retire_non_members();
    check_final_state();
    check_history();
  }

  // The configuration the cluster settled on: the leader's latest, committed
  // and not joint; nullopt while it is still changing.
  std::optional<raft::Configuration> final_configuration() {
    SimNode* leader = cluster_.leader();
    if (leader == nullptr) return std::nullopt;
    const raft::Core& core = leader->node()->core();
    if (core.latest_configuration_index() > core.log().committed()) return std::nullopt;
    raft::Configuration latest = core.configuration_at(core.log().last_index());
    if (latest.is_joint()) return std::nullopt;
    return latest;
  }

  // Every member of the final configuration runs and has applied all the
  // leader committed; nodes removed are not expected to.
  bool converged() {
    std::optional<raft::Configuration> final = final_configuration();
    if (!final) return false;
    const raft::Index commit = cluster_.leader()->node()->status().commit;
    for (raft::NodeId id : final->members()) {
      SimNode& n = cluster_.node(id);
      if (!n.running() || n.node()->status().applied != commit) return false;
    }
    return true;
  }

  std::string convergence_state() {
    std::optional<raft::Configuration> final = final_configuration();
    std::string out = final ? absl::StrCat("configuration ", final->describe(), ": ")
                            : "no leader with a settled configuration: ";
    for (raft::NodeId id : cluster_.ids()) {
      SimNode& n = cluster_.node(id);
      absl::StrAppend(&out, "n", id.value(), n.running() ? "" : "(down)", " applied=",
                      n.running() ? n.node()->status().applied.value() : 0, " ");
    }
    return out;
  }

  // Nodes left out of the final configuration (removed, or fresh and never
  // added) are shut down: the final checks read the members.
  void retire_non_members() {
    const raft::Configuration final = *final_configuration();
    const std::vector<raft::NodeId> ids = cluster_.ids();
    for (raft::NodeId id : ids) {
      if (!final.is_member(id)) cluster_.retire(id);
    }
  }

  void check_final_state() {
    std::optional<uint64_t> first_hash;
    std::optional<raft::NodeId> first_node;
    for (raft::NodeId id : cluster_.ids()) {
      SimNode* n = &cluster_.node(id);
      auto* checked = static_cast<CheckedStateMachine*>(n->state_machine());
      absl::StatusOr<uint64_t> hash = checked->sql().state_hash();
      if (!hash.ok()) {
        violation(absl::StrCat("node ", n->id().value(), " final state_hash failed: ", hash.status().ToString()));
        return;
      }
      if (first_hash && *first_hash != *hash) {
        violation(absl::StrCat("replica divergence at the end: node ", n->id().value(), " state_hash ",
                               absl::Hex(*hash), " differs from node ", first_node->value(), "'s ",
                               absl::Hex(*first_hash)));
        return;
      }
      first_hash = *hash;
      first_node = id;
    }
    record_final_reads();
  }

  // Every key read on every node, as operations completed after everything
  // else: the linearizability check then also proves every acknowledged
  // write is in the final state (durability).
  void record_final_reads() {
    const uint64_t now = cluster_.scheduler().now_us();
    for (size_t k = 0; k < config_.workload.keys; ++k) {
      const std::string key = absl::StrCat("k", k);
      for (raft::NodeId member : cluster_.ids()) {
        SimNode* n = &cluster_.node(member);
        absl::StatusOr<std::string> bytes = n->state_machine()->query(Workload::register_query(key));
        std::optional<std::optional<std::string>> value =
            bytes.ok() ? Workload::decode_register_read(*bytes) : std::nullopt;
        if (!value) {
          violation(absl::StrCat("final read of ", key, " on node ", n->id().value(), " failed"));
          return;
        }
        const uint64_t id = history_.invoke(0, key, OpKind::kRead, "", "", now + 1);
        history_.complete_ok_read(id, now + 2, *value);
      }
    }
  }

  void check_history() {
    const auto start = std::chrono::steady_clock::now();
    check_history_now();
    report_.check_wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void check_history_now() {
    if (workload_.sql_error()) violation(absl::StrCat("sql: ", *workload_.sql_error()));
    CheckBudget budget;
    budget.max_states_per_key = kLinearizabilityStates;
    budget.max_states_total = 4 * kLinearizabilityStates;
    LinearizabilityResult result = check_linearizability(history_.operations(), budget);
    if (result.verdict == LinearizabilityVerdict::kViolation) {
      violation(absl::StrCat("linearizability (key ", result.key, "): ", result.explanation));
    } else if (result.verdict == LinearizabilityVerdict::kUnknown) {
      report_.checks.push_back(absl::StrCat("linearizability: unknown (", result.explanation, ")"));
    }
    check_weak_reads();
  }

  void check_weak_reads() {
    // Earliest invocation of a write of each (key, value).
    std::map<std::pair<std::string_view, std::string_view>, uint64_t> first_written;
    for (const Operation& op : history_.operations()) {
      if (op.kind == OpKind::kRead) continue;
      auto [it, inserted] = first_written.try_emplace({op.key, op.value}, op.invoke_us);
      if (!inserted) it->second = std::min(it->second, op.invoke_us);
    }
    for (const WeakRead& read : workload_.weak_reads()) {
      if (!read.value) continue;
      const auto it = first_written.find({read.key, *read.value});
      if (it == first_written.end() || it->second > read.complete_us) {
        violation(absl::StrCat("weak read of ", read.key, " returned '", *read.value,
                               "', which no write had written before it completed"));
        return;
      }
    }
  }

  void violation(std::string what) { report_.violations.push_back(std::move(what)); }

  void fill_counters() {
    const WorkloadStats& stats = workload_.stats();
    report_.ops_ok = stats.ok;
    report_.ops_failed = stats.failed;
    report_.ops_unknown = stats.unknown;
    report_.events = cluster_.scheduler().events_run();
    report_.sim_seconds = static_cast<double>(cluster_.scheduler().now_us()) / 1e6;
  }

  void finish_report(double wall_seconds) {
    fill_counters();
    report_.wall_seconds = wall_seconds;
    report_.trace_hash = cluster_.scheduler().trace_hash();
    report_.faults = faults_.counts();
    for (const auto& [kind, n] : membership_.counts()) report_.faults[kind] = n;
    report_.membership = membership_.schedule();
    const NetworkStats& net = cluster_.network().stats();
    if (net.lost > 0) report_.faults["message-lost"] = net.lost;
    if (net.duplicated > 0) report_.faults["message-duplicated"] = net.duplicated;
    if (net.cut > 0) report_.faults["message-cut"] = net.cut;
    if (net.died_with_sender > 0) report_.faults["message-died-with-sender"] = net.died_with_sender;
    report_.checks.insert(report_.checks.begin(),
                          {"raft-safety", "commit-quorum", "replica-agreement", "durability", "linearizability", "weak-reads",
                           "liveness", "assertions"});
  }

  const RunConfig& config_;
  const RunHooks& hooks_;
  RunReport report_;
  History history_;
  RaftSafetyChecker safety_;
  CommitQuorumChecker commit_quorum_{
      [this](raft::NodeId id, raft::Index index, raft::Term term) { return cluster_.node(id).durably_holds(index, term); }};
  AppliedTimeChecker applied_time_;
  bool safety_reported_ = false;
  std::map<uint64_t, std::pair<raft::NodeId, uint64_t>> hashes_;
  std::pair<uint64_t, uint64_t> last_leader_{0, 0};
  SimCluster cluster_;
  Workload workload_;
  FaultInjector faults_;
  MembershipFaults membership_;
};

}  // namespace

std::string RunReport::to_json() const {
  nlohmann::json j;
  j["seed"] = seed;
  j["trace_hash"] = absl::StrCat(absl::Hex(trace_hash, absl::kZeroPad16));
  j["nodes"] = nodes;
  j["sim_seconds"] = sim_seconds;
  j["wall_seconds"] = wall_seconds;
  j["check_wall_seconds"] = check_wall_seconds;
  j["events"] = events;
  j["ops"] = {{"ok", ops_ok}, {"failed", ops_failed}, {"unknown", ops_unknown}};
  j["leader_changes"] = leader_changes;
  j["faults"] = faults;
  j["membership"] = membership;
  j["checks"] = checks;
  j["violations"] = violations;
  j["first_violation"] = violations.empty() ? "" : violations.front();
  j["bugs"] = bugs;
  j["bugs_switched_off"] = bugs_switched_off;
  j["config"] = config;
  j["ok"] = ok();
  return j.dump();
}

RunReport run_simulation(const RunConfig& config, const RunHooks& hooks) {
  Run run(config, hooks);
  return run.run();
}

}  // namespace reef::sim
